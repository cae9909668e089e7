# A client that types and leaves at once: it handshakes, asks for a full
# update, sends KEYS presses and releases of 'a' and an incremental update
# request, and closes without reading anything (the kernel then resets the
# connection: the server's updates are unread). Prints the number of key
# events sent. Usage: vnc_keys_on_close.py PORT KEYS
import socket, struct, sys
from rfb import handshake

port, keys = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=10)
w, h = handshake(s)
s.sendall(struct.pack('>BxH', 2, 1) + struct.pack('>i', 0))
s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))
burst = b''.join(struct.pack('>BBxxI', 4, down, 0x61) for _ in range(keys) for down in (1, 0))
s.sendall(burst + struct.pack('>BBHHHH', 3, 1, 0, 0, w, h))
s.close()
print(2 * keys)
