/*
 * The DSDT, compiled from acpi_dsdt.asl by iasl at build time (Makefile:
 * `iasl -tc` writes $(BUILD)/gen/acpi_dsdt.hex, a C array named
 * acpi_dsdt_aml_code with the table's own checksum already set).
 */
#include "acpi_tables.h"

#include "acpi_dsdt.hex"

const uint8_t *acpi_dsdt_aml(size_t *len)
{
	*len = sizeof(acpi_dsdt_aml_code);
	return acpi_dsdt_aml_code;
}
