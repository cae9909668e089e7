#!/usr/bin/env python3
"""gen_man: writes the fbvm(1) man page (roff) from README.md, its one source.

Takes from the README:
  NAME         the first paragraph under the title
  SYNOPSIS     the usage block (the ``` block under "What it is" that starts
               with "fbvm run")
  DESCRIPTION  the paragraphs of "What it is" before the usage block
  OPTIONS      the "- `--option` ..." list right after the usage block
  EXIT STATUS  the table (and the text after it) under "### Exit status"
and fails, naming what it missed, if the README no longer has one of them,
so a renamed section breaks the build instead of shipping an empty page.
Links become their text; `code` and **bold** become bold.

Usage: tools/gen_man.py --version VERSION README.md > fbvm.1
"""

import argparse
import re
import sys


class ReadmeError(Exception):
    pass


def slug(heading):
    """GitHub's anchor for a heading: lower case, spaces to '-', no punctuation."""
    return re.sub(r'[^a-z0-9 _-]', '', heading.strip().lower()).replace(' ', '-')


# anchor -> heading text, for links into the README (set by parse).
HEADINGS = {}


def link_text(m):
    """A link as text: an anchor into the README says which section."""
    text, target = m.group(1), m.group(2)
    if not target.startswith('#'):
        return text
    heading = HEADINGS.get(target[1:])
    if heading is None:
        raise ReadmeError('link to #%s, which is no heading' % target[1:])
    if heading.lower() == text.lower():
        return '%s (README)' % text
    return '%s (README, "%s")' % (text, heading)


def roff_text(md):
    """Inline Markdown to roff: escapes, code and bold as \\fB, links as text."""
    out = []
    # Split into code spans and the rest; code keeps its characters literally.
    for i, part in enumerate(re.split(r'`([^`]*)`', md)):
        if i % 2:
            out.append('\\fB' + escape(part) + '\\fR')
            continue
        part = part.replace('\\|', '|')
        part = re.sub(r'\[([^\]]*)\]\(([^)]*)\)', link_text, part)
        part = escape(part)
        part = re.sub(r'\*\*([^*]+)\*\*', r'\\fB\1\\fR', part)
        out.append(part)
    return ''.join(out)


def escape(s):
    s = s.replace('\\', '\\e')
    # An ASCII hyphen-minus, so options can be copied from the page.
    s = s.replace('-', '\\-')
    return s


def line_safe(s):
    """A roff text line must not start with a control character."""
    return '\\&' + s if s[:1] in ('.', "'") else s


def paragraphs(lines):
    """Blank-line separated paragraphs, each joined into one line."""
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(' '.join(cur))
            cur = []
    if cur:
        paras.append(' '.join(cur))
    return paras


def section(lines, heading):
    """The lines under a Markdown heading, up to the next heading of any level."""
    for i, line in enumerate(lines):
        if line.strip() == heading:
            end = i + 1
            while end < len(lines) and not lines[end].startswith('#'):
                end += 1
            return lines[i + 1:end]
    raise ReadmeError('no "%s" heading' % heading)


def parse(readme):
    lines = readme.split('\n')
    HEADINGS.update((slug(l.lstrip('#')), l.lstrip('#').strip())
                    for l in lines if re.match(r'^#+ ', l))
    if not lines or not lines[0].startswith('# '):
        raise ReadmeError('no title on the first line')
    intro = paragraphs(lines[1:next(i for i, l in enumerate(lines[1:], 1)
                                    if l.startswith('```') or l.startswith('#'))])
    if not intro:
        raise ReadmeError('no paragraph under the title')

    what = section(lines, '## What it is')
    try:
        start = next(i for i, l in enumerate(what)
                     if l.startswith('```') and i + 1 < len(what) and
                     what[i + 1].startswith('fbvm run'))
    except StopIteration:
        raise ReadmeError('no usage block (```, then "fbvm run ...") under "What it is"')
    end = next((i for i in range(start + 1, len(what)) if what[i].startswith('```')), None)
    if end is None:
        raise ReadmeError('the usage block is not closed')
    description = paragraphs(what[:start])
    synopsis = what[start + 1:end]

    options, cur = [], None
    for line in what[end + 1:]:
        if line.startswith('- '):
            cur = [line[2:].strip()]
            options.append(cur)
        elif line.startswith('  ') and cur is not None and line.strip():
            cur.append(line.strip())
        elif not line.strip() and not options:
            continue
        else:
            break
    options = [' '.join(o) for o in options]
    if not options or not all(o.startswith('`-') for o in options):
        raise ReadmeError('no "- `--option` ..." list after the usage block')

    status = section(lines, '### Exit status')
    rows, after = [], []
    for line in status:
        if line.startswith('|'):
            cells = [c.strip() for c in re.split(r'(?<!\\)\|', line.strip())[1:-1]]
            if len(cells) == 2 and not set(cells[0]) <= set('-: ') and cells[0] != 'status':
                rows.append(cells)
        elif rows and line.strip():
            after.append(line)
    if not rows:
        raise ReadmeError('no status table under "Exit status"')
    return {
        'name': intro[0], 'description': description, 'synopsis': synopsis,
        'options': options, 'status': rows, 'status_after': paragraphs(after),
    }


def option_item(text):
    """(tag, body) for one option bullet: the part before ': ' when it is the
    option and its argument, else the option's code span and the rest."""
    m = re.match(r'^(`[^`]+`(?: \((?:[^()]|`[^`]*`)*\))?): (.*)$', text)
    if m:
        return m.group(1), m.group(2)
    m = re.match(r'^(`[^`]+`) (.*)$', text)
    return m.group(1), m.group(2)


def render(doc, version):
    out = ['.\\" Generated from README.md by tools/gen_man.py: edit the README, not this file.',
           '.TH FBVM 1 "" "fbvm %s" "User Commands"' % escape(version),
           '.SH NAME',
           'fbvm \\- ' + roff_text(re.sub(r'^An? ', '', doc['name']).rstrip('.')),
           '.SH SYNOPSIS',
           '.nf']
    for line in doc['synopsis']:
        out.append(line_safe(roff_text('`%s`' % line) if line.strip() else ''))
    out.append('.fi')
    out.append('.SH DESCRIPTION')
    for i, p in enumerate(doc['description']):
        if i:
            out.append('.PP')
        out.append(line_safe(roff_text(p)))
    out.append('.SH OPTIONS')
    for text in doc['options']:
        tag, body = option_item(text)
        out += ['.TP', line_safe(roff_text(tag)), line_safe(roff_text(body))]
    out.append('.SH EXIT STATUS')
    for status, meaning in doc['status']:
        out += ['.TP', line_safe(roff_text(status)), line_safe(roff_text(meaning))]
    for p in doc['status_after']:
        out += ['.PP', line_safe(roff_text(p))]
    out += ['.SH SEE ALSO',
            '.BR qemu\\-system\\-x86_64 (1),',
            '.BR vncviewer (1);',
            'the README of the fbvm sources for its design, limits and tests.']
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--version', required=True)
    ap.add_argument('readme')
    args = ap.parse_args()
    with open(args.readme) as f:
        text = f.read()
    try:
        doc = parse(text)
    except ReadmeError as e:
        print('gen_man: %s: %s' % (args.readme, e), file=sys.stderr)
        return 1
    sys.stdout.write(render(doc, args.version))
    return 0


if __name__ == '__main__':
    sys.exit(main())
