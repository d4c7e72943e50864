/*
 * cmdtab.c - the UPS-Link command table (ULS §3.1-§4.2, spec actions 1-72).
 * One row per command byte, designated initialisers indexed by the byte.
 * `families` says which model families answer by default (a profile may
 * add or remove commands); `flags` drive the dispatcher's shared checks.
 * Rows marked CF_UNDOC are not in ULS but are answered by real units.
 */
#include "ups_internal.h"

#include <stdio.h>

/* Family shorthands (profile.h). */
#define ALL UPS_FAM_ALL
#define OLD UPS_FAM_OLD
#define SU2 UPS_FAM_SU2
#define SU3 UPS_FAM_SU3
#define MTX UPS_FAM_MATRIX
#define VS UPS_FAM_VS
#define BUP UPS_FAM_BUP
#define SMART (OLD | SU2 | SU3 | MTX) /* Smart-UPS and Matrix, not v/s, BUP */

#define ROW(b, id_, label_, kind_, reply_, fam_, flags_, ref_, fn_) \
	[b] = { .id = id_, .label = label_, .kind = kind_, .reply = reply_, \
		.families = fam_, .flags = flags_, .ref = ref_, .fn = fn_ }

static const struct cmd_def table[256] = {
	/* §3.1 UPS control commands */
	ROW('Y', "set_smart_mode", "Set UPS to smart mode", CMD_ACTION, "SM",
	    ALL, CF_DUMB_OK, "ULS p.3", h_smart),
	ROW('A', "test_lights_beeper", "Test lights and beeper", CMD_ACTION,
	    "OK", ALL, 0, "ULS p.3", h_ok),
	ROW('K', "turn_off_after_delay", "Turn off after delay (K >1.5s K)",
	    CMD_ACTION, "OK|*|NA", SU2 | SU3 | MTX | VS | BUP,
	    CF_TWO_PRESS | CF_DESTRUCTIVE | CF_INTERLOCK, "ULS p.3",
	    h_turn_off_delay),
	ROW('S', "shutdown_on_battery", "Shut down UPS on battery", CMD_ACTION,
	    "OK|NA", ALL, CF_DESTRUCTIVE, "ULS p.3", h_shutdown_battery),
	ROW('U', "simulate_power_failure", "Simulate power failure",
	    CMD_ACTION, "OK|NA", ALL, CF_DESTRUCTIVE | CF_INTERLOCK, "ULS p.4",
	    h_sim_fail),
	ROW('W', "battery_test", "Battery test", CMD_ACTION, "OK|NA",
	    SMART | BUP, CF_INTERLOCK, "ULS p.4", h_self_test),
	ROW('Z', "turn_off_immediate", "Turn off UPS (Z >1.5s Z)", CMD_ACTION,
	    "OK|*|NA", SU2 | SU3 | MTX | BUP,
	    CF_TWO_PRESS | CF_DESTRUCTIVE | CF_INTERLOCK, "ULS p.4",
	    h_turn_off_now),
	ROW('@', "shutdown_delayed_wake", "Shut down with delayed wake up (@ddd)",
	    CMD_ACTION, "OK|*|NA", ALL, CF_DESTRUCTIVE | CF_INTERLOCK,
	    "ULS p.4-5", h_sleep_at),
	ROW(0x7F, "abort_shutdown", "Abort shutdown (DEL)", CMD_ACTION, "OK|NO",
	    SU3 | MTX, 0, "ULS p.5", h_abort),
	ROW('D', "run_time_calibration", "Run time calibration", CMD_ACTION,
	    "OK|NO|NA", SMART, CF_DESTRUCTIVE, "ULS p.5", h_calibrate),
	ROW('^', "ups_to_bypass_toggle", "UPS to bypass toggle", CMD_ACTION,
	    "BYP|INV|ERR", MTX, CF_DESTRUCTIVE, "ULS p.5", h_bypass),
	ROW(0x0E, "turn_ups_on", "Turn UPS on (^N >1.5s ^N)", CMD_ACTION, "",
	    SU3, CF_TWO_PRESS | CF_DESTRUCTIVE, "ULS p.6", h_turn_on),
	ROW('R', "return_to_simple_mode", "Return to simple mode", CMD_ACTION,
	    "BYE", SU3 | VS | BUP, 0, "ULS p.6", h_dumb),

	/* §3.2 status inquiry */
	ROW('X', "battery_test_result", "Battery test result", CMD_QUERY,
	    "OK|BT|NG|NO", SMART | BUP | VS, 0, "ULS p.6", h_test_result),
	[ '>' ] = { .id = "num_battery_packs", .id2 = "battery_pack_config",
		    .label = "Number of battery packs / pack configuration",
		    .kind = CMD_QUERY, .reply = "ddd", .families = MTX,
		    .flags = 0, .ref = "ULS p.6, p.22", .fn = h_packs },
	ROW('<', "num_bad_battery_packs", "Number of bad battery packs",
	    CMD_QUERY, "ddd", MTX, 0, "ULS p.6", h_bad_packs),
	ROW('G', "transfer_cause", "Transfer cause", CMD_QUERY, "R|H|L|T|O|S",
	    ALL, 0, "ULS p.7", h_cause),
	ROW('V', "firmware_version", "Firmware version (old)", CMD_QUERY, "xxx",
	    OLD | SU2 | SU3 | MTX, 0, "ULS p.7", h_fw_v),
	ROW('g', "nominal_battery_voltage", "Nominal battery voltage",
	    CMD_QUERY, "ddd", SMART | BUP, 0, "ULS p.8", h_batt_nominal),
	ROW('f', "battery_capacity", "Battery capacity", CMD_QUERY, "ddd.d",
	    SMART | BUP, 0, "ULS p.8", h_charge),
	ROW('9', "acceptable_line_quality", "Acceptable line quality",
	    CMD_QUERY, "FF|00", ALL, 0, "ULS p.8", h_line_quality),
	ROW('Q', "ups_status_register", "UPS status register", CMD_QUERY, "xx",
	    ALL, 0, "ULS p.8", h_reg_q),
	ROW('~', "state_register", "State register", CMD_QUERY, "xx",
	    SU3 | MTX | VS | BUP, 0, "ULS p.8-9", h_reg_state),
	ROW('\'', "trip1_register", "Trip1 register", CMD_QUERY, "xx",
	    SU3 | MTX | BUP, 0, "ULS p.9", h_reg_trip1),
	ROW('8', "trip_register", "Trip register", CMD_QUERY, "xx", ALL, 0,
	    "ULS p.9-10", h_reg_trip),
	ROW('7', "dip_switch_position", "DIP switch position", CMD_QUERY, "xx",
	    SMART, 0, "ULS p.10", h_reg_dip),
	ROW('n', "ups_serial_number", "UPS serial number", CMD_QUERY,
	    "xxxxxxxxxxxx", SU2 | SU3 | MTX | VS | BUP, 0, "ULS p.10", h_serial),
	ROW('m', "ups_manufacture_date", "UPS manufacture date", CMD_QUERY,
	    "xx/xx/xx", SU2 | SU3 | MTX | BUP, 0, "ULS p.10", h_mfr_date),
	ROW('j', "run_time_remaining", "Run time remaining", CMD_QUERY,
	    "dddd:", SU2 | SU3 | MTX | BUP, 0, "ULS p.11", h_runtime),
	ROW('y', "copyright", "Copyright", CMD_QUERY, "(C) APCC",
	    SU3 | MTX | VS | BUP, 0, "ULS p.11", h_copyright),
	ROW('a', "all_commands_available", "All commands available",
	    CMD_QUERY, "level.alerts.commands", SU3 | VS | BUP, 0, "ULS p.11",
	    h_caps),
	ROW('b', "version_in_decimal", "Version in decimal", CMD_QUERY,
	    "sku.fw.c", SU3 | VS | BUP, 0, "ULS p.11-12", h_fw_b),
	ROW(0x01, "ups_model_name", "UPS model (^A)", CMD_QUERY, "text<32",
	    SU3 | MTX | VS | BUP, 0, "ULS p.12", h_model),

	/* §3.3 power inquiry */
	ROW('/', "load_current", "Load current", CMD_QUERY, "dd.dd", MTX, 0,
	    "ULS p.12", h_current),
	ROW('\\', "apparent_load_power", "Apparent load power", CMD_QUERY,
	    "ddd.dd", MTX, 0, "ULS p.12", h_apparent),
	ROW('B', "battery_voltage", "Battery voltage", CMD_QUERY, "dd.dd|ddd.d",
	    SMART | BUP, 0, "ULS p.13; ddd.d from 100 V packs: NUT-DDL RT 3000 XL",
	    h_batt_v),
	ROW('C', "ups_internal_temperature", "UPS internal temperature",
	    CMD_QUERY, "ddd.d", SMART, 0, "ULS p.13", h_temp),
	ROW('F', "operating_frequency", "UPS and utility frequency", CMD_QUERY,
	    "dd.dd", SMART | BUP, 0, "ULS p.13", h_freq),
	ROW('L', "line_voltage", "Line voltage", CMD_QUERY, "ddd.d", SMART | BUP,
	    0, "ULS p.13", h_line_v),
	ROW('M', "max_line_voltage", "Maximum line voltage", CMD_QUERY, "ddd.d",
	    SMART, 0, "ULS p.13", h_line_max),
	ROW('N', "min_line_voltage", "Minimum line voltage", CMD_QUERY, "ddd.d",
	    SMART, 0, "ULS p.13", h_line_min),
	ROW('O', "output_voltage", "Output voltage", CMD_QUERY, "ddd.d",
	    SMART | BUP, 0, "ULS p.14", h_out_v),
	ROW('P', "load_power", "Load power", CMD_QUERY, "ddd.d", SMART | BUP, 0,
	    "ULS p.14", h_load),

	/* §3.4 customizing */
	ROW(0x1A, "read_all_eeprom", "Read all EEPROM parameters (^Z)",
	    CMD_QUERY, "#...", SU3 | MTX, 0, "ULS p.15-16", h_dump),
	ROW('z', "reset_eeprom", "Reset EEPROM to factory defaults", CMD_ACTION,
	    "CLEAR", SMART, CF_DESTRUCTIVE, "ULS p.16", h_reset_eeprom),
	ROW('-', "edit_next", "Edit: next value / direct entry", CMD_MODIFIER,
	    "OK|NO|NA", SMART | BUP, CF_INTERLOCK, "ULS p.16", h_edit),
	ROW(0x16, "output_voltage_selection", "Output voltage selection (^V)",
	    CMD_SETTING, "A|M|I", MTX, CF_EDITABLE, "ULS p.16", h_setting),
	ROW(0x0C, "front_panel_language", "Front panel language (^L)",
	    CMD_SETTING, "E|F|G|S|1|2|3|4", MTX, CF_EDITABLE, "ULS p.16-17",
	    h_setting),
	ROW('E', "auto_battery_test_setting", "Automatic battery test interval",
	    CMD_SETTING, "336|168|ON |OFF", SMART | BUP, CF_EDITABLE, "ULS p.17",
	    h_setting),
	ROW('c', "ups_id", "UPS ID", CMD_SETTING, "8 chars", SMART | BUP,
	    CF_ENTRY, "ULS p.17", h_ups_id),
	ROW('x', "battery_replacement_date", "Battery replacement date",
	    CMD_SETTING, "xx/xx/xx", SU2 | SU3 | MTX | BUP, CF_ENTRY, "ULS p.18",
	    h_batt_date),
	ROW('u', "upper_transfer_voltage", "Upper transfer voltage",
	    CMD_SETTING, "ddd", SMART, CF_EDITABLE, "ULS p.18", h_setting),
	ROW('l', "lower_transfer_voltage", "Lower transfer voltage",
	    CMD_SETTING, "ddd", SMART, CF_EDITABLE, "ULS p.18", h_setting),
	ROW('e', "min_battery_capacity_restart", "Minimum capacity to restart",
	    CMD_SETTING, "dd", SMART, CF_EDITABLE, "ULS p.19", h_setting),
	ROW('o', "output_voltage_setting", "Output voltage on battery",
	    CMD_SETTING, "ddd", SMART, CF_EDITABLE, "ULS p.19-20", h_setting),
	ROW('s', "utility_failure_sensitivity", "Sensitivity", CMD_SETTING,
	    "H|M|L|A", SMART | BUP, CF_EDITABLE, "ULS p.20", h_setting),
	ROW('q', "low_battery_warning", "Low battery warning interval",
	    CMD_SETTING, "dd", SMART | BUP, CF_EDITABLE, "ULS p.21", h_setting),
	ROW('k', "audible_alarm", "Audible alarm", CMD_SETTING, "0|T|L|N",
	    SMART | BUP, CF_EDITABLE, "ULS p.21", h_setting),
	ROW('p', "shutdown_delay", "Shutdown delay", CMD_SETTING, "ddd",
	    SMART | BUP, CF_EDITABLE, "ULS p.21", h_setting),
	ROW('r', "turn_on_delay", "Turn on delay", CMD_SETTING, "ddd",
	    SMART | BUP, CF_EDITABLE, "ULS p.22", h_setting),
	ROW('w', "run_time_conservation", "Run time conservation", CMD_SETTING,
	    "NO|02|05|08", MTX, CF_EDITABLE, "ULS p.22", h_setting),

	/* §4.1-§4.2 Measure-UPS accessory */
	ROW('t', "ambient_temperature", "Ambient temperature (Measure-UPS)",
	    CMD_QUERY, "dd.dd", SMART, CF_MEASURE, "ULS p.26", h_ambient),
	ROW('h', "humidity", "Relative humidity (Measure-UPS)", CMD_QUERY,
	    "ddd.d", SMART, CF_MEASURE, "ULS p.26", h_humidity),
	ROW('v', "measureups_firmware", "Measure-UPS firmware", CMD_QUERY,
	    "4xx", SMART, CF_MEASURE, "ULS p.27", h_measure_fw),
	ROW('i', "dip_external_contact_status", "DIP and contact status",
	    CMD_QUERY, "xx", SMART, CF_MEASURE, "ULS p.27", h_contacts),
	ROW('J', "alarm_status", "Alarm status (Measure-UPS)", CMD_QUERY, "xx",
	    SMART, CF_MEASURE, "ULS p.27-28", h_alarms),
	ROW('[', "upper_temp_alarm_limit", "Upper temperature alarm limit",
	    CMD_SETTING, "dd.dd", SMART, CF_MEASURE | CF_EDITABLE, "ULS p.29",
	    h_setting),
	ROW(']', "lower_temp_alarm_limit", "Lower temperature alarm limit",
	    CMD_SETTING, "dd.dd", SMART, CF_MEASURE | CF_EDITABLE, "ULS p.29",
	    h_setting),
	ROW('{', "upper_rh_alarm_limit", "Upper humidity alarm limit",
	    CMD_SETTING, "ddd.d", SMART, CF_MEASURE | CF_EDITABLE, "ULS p.30",
	    h_setting),
	ROW('}', "lower_rh_alarm_limit", "Lower humidity alarm limit",
	    CMD_SETTING, "ddd.d", SMART, CF_MEASURE | CF_EDITABLE, "ULS p.30",
	    h_setting),
	ROW('I', "alarm_enable", "Alarm enable mask (Measure-UPS)", CMD_SETTING,
	    "xx", SMART, CF_MEASURE | CF_ENTRY, "ULS p.29-30", h_alarm_enable),

	/* Modifier bytes and extras that are not separate spec actions */
	[ '+' ] = { .id = NULL, .label = "Edit: increment (after >)",
		    .kind = CMD_MODIFIER, .reply = "ddd|NA", .families = SU3 | MTX,
		    .flags = CF_INTERLOCK, .ref = "ULS p.22", .fn = h_edit },
	[ 'd' ] = { .id = NULL, .label = "Hours since last self-test",
		    .kind = CMD_QUERY, .reply = "ddd.d", .families = SU3,
		    .flags = CF_UNDOC, .ref = "protocol-facts §5 extras (AUD-DEF)",
		    .fn = h_since_test },
};

const struct cmd_def *cmd_lookup(uint8_t b)
{
	return table[b].fn ? &table[b] : NULL;
}

const char *cmd_byte_name(uint8_t b, char buf[8])
{
	if (b == 0x7F)
		snprintf(buf, 8, "DEL");
	else if (b < 0x20)
		snprintf(buf, 8, "^%c", b + '@');
	else if (b < 0x7F)
		snprintf(buf, 8, "%c", b);
	else
		snprintf(buf, 8, "\\x%02X", b);
	return buf;
}

int cmd_count_actions(void)
{
	int n = 0;
	for (int b = 0; b < 256; b++) {
		if (table[b].fn && table[b].id)
			n++;
		if (table[b].fn && table[b].id2)
			n++;
	}
	return n;
}
