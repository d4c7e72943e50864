/*
 * ups_internal.h - the unit's state and the handler signatures shared by
 * the dispatcher (model.c) and the command table (cmdtab.c).  Not public:
 * other modules see struct ups only through ups.h.
 */
#ifndef UPSSIM_UPS_INTERNAL_H
#define UPSSIM_UPS_INTERNAL_H

#include "upssim/cmdtab.h"
#include "upssim/codec.h"
#include "upssim/ups.h"

/**
 * What a handler answers: nothing, or one line that gets CR LF appended.
 * Every reply of a profile the loader accepts fits (ups_reply_max()).
 */
struct ups_reply {
	bool present;
	size_t len;
	char buf[UPS_REPLY_MAX];
};

enum sd_kind { SD_NONE = 0, SD_K, SD_S, SD_AT };
enum off_reason { OFF_NONE = 0, OFF_K, OFF_Z, OFF_S, OFF_AT, OFF_LOWBATT,
		  OFF_BUTTON, OFF_FAULT, OFF_OVERLOAD };

struct ups {
	const struct ups_profile *p;
	struct codec codec;
	uint64_t t;              /* model time reached so far */

	bool alive;              /* electronics powered */
	bool smart;
	bool output_on;
	enum off_reason off;
	uint64_t turn_on_at;     /* scheduled output-on, UPS_NEVER if none */

	/* environment: starts from the profile, changed by ups_apply() */
	double line_v, line_hz, load_pct, charge;
	double health;           /* battery capacity left, 0..1 */
	bool batt_connected;
	double temp_c, ambient_c, humidity_pct;
	uint8_t contacts;        /* Measure-UPS i: DIP nibble | contact nibble */
	uint8_t dip;             /* 7 */
	int bad_packs;           /* < */
	uint32_t faults;         /* 1 << enum ups_fault */
	uint64_t xfer_until;     /* notch/spike/rate: on battery until then */
	char xfer_cause;         /* G for that transfer */
	double mmax, mmin;       /* M / N since last read */
	double batt_offset;      /* B at start minus the model's (profile) */
	char cause;              /* G */

	/* forced battery operation */
	uint64_t simfail_until;  /* U */
	uint64_t selftest_until; /* W */
	bool calibrating;        /* D */
	bool on_batt;            /* derived each step */
	bool linefail;           /* on battery because of the line, U or D */
	bool bypass;             /* Matrix ^ */
	uint64_t bypass_change_until;

	/* self-test result (X) */
	char result[3];
	uint64_t result_t;
	bool has_result;
	bool replace;            /* Q bit 7 */
	uint64_t last_test_t;    /* d: hours since last self-test */
	uint64_t auto_test_at;   /* next automatic self-test (E) */

	/* shutdowns */
	enum sd_kind sd;
	uint64_t sd_at;          /* output goes off then */
	uint64_t wake_at;        /* @ddd: end of sleep */
	uint8_t trip, trip1;

	/* EEPROM */
	uint8_t ee_idx[128];
	char ups_id[9];
	char batt_date[9];
	uint8_t alarm_enable;
	int packs;
	uint64_t eeprom_alert_at;

	/* what a power cut keeps (ups_state.c): state_version counts its
	 * changes; test_age0 is the time since the last self-test that a
	 * restored state brings from before this unit's model time 0 */
	uint32_t state_version;
	uint64_t test_age0;

	/* alerts */
	bool sent_linefail, sent_lowbatt, sent_abnormal;
	bool lowbatt;
	bool deep;               /* shut down by low battery, not yet recharged */
	uint64_t linefail_next, replace_next, power_on_alert_at, measure_next;
	uint8_t jlatch;          /* Measure-UPS J latched bits */
	bool measure_alarm;      /* an enabled Measure-UPS alarm is active */
	uint8_t alerts[64];
	size_t n_alerts;

	/* observers and overrides (ups_set_lint, ups_set_reply_hook,
	 * ups_mute_alerts): none of them is set by the model itself */
	struct lint *lint;
	ups_reply_hook reply_hook;
	void *reply_ctx;
	bool alerts_muted;
};

/* After ups_state_load(): plan the next automatic self-test from the
 * restored E and test age, as at power-on (model.c). */
void ups_restored(struct ups *u);

/* Handlers, one per command byte (see cmdtab.c). */
#define UPS_HANDLER(name) \
	void name(struct ups *u, const struct codec_event *ev, uint64_t now, \
		  struct ups_reply *r)
UPS_HANDLER(h_smart);
UPS_HANDLER(h_ok);
UPS_HANDLER(h_turn_off_delay);
UPS_HANDLER(h_shutdown_battery);
UPS_HANDLER(h_sim_fail);
UPS_HANDLER(h_self_test);
UPS_HANDLER(h_turn_off_now);
UPS_HANDLER(h_sleep_at);
UPS_HANDLER(h_abort);
UPS_HANDLER(h_calibrate);
UPS_HANDLER(h_bypass);
UPS_HANDLER(h_turn_on);
UPS_HANDLER(h_dumb);
UPS_HANDLER(h_test_result);
UPS_HANDLER(h_packs);
UPS_HANDLER(h_bad_packs);
UPS_HANDLER(h_cause);
UPS_HANDLER(h_fw_v);
UPS_HANDLER(h_batt_nominal);
UPS_HANDLER(h_charge);
UPS_HANDLER(h_line_quality);
UPS_HANDLER(h_reg_q);
UPS_HANDLER(h_reg_state);
UPS_HANDLER(h_reg_trip1);
UPS_HANDLER(h_reg_trip);
UPS_HANDLER(h_reg_dip);
UPS_HANDLER(h_serial);
UPS_HANDLER(h_mfr_date);
UPS_HANDLER(h_runtime);
UPS_HANDLER(h_copyright);
UPS_HANDLER(h_caps);
UPS_HANDLER(h_fw_b);
UPS_HANDLER(h_model);
UPS_HANDLER(h_current);
UPS_HANDLER(h_apparent);
UPS_HANDLER(h_batt_v);
UPS_HANDLER(h_temp);
UPS_HANDLER(h_freq);
UPS_HANDLER(h_line_v);
UPS_HANDLER(h_line_max);
UPS_HANDLER(h_line_min);
UPS_HANDLER(h_out_v);
UPS_HANDLER(h_load);
UPS_HANDLER(h_dump);
UPS_HANDLER(h_reset_eeprom);
UPS_HANDLER(h_edit);
UPS_HANDLER(h_setting);
UPS_HANDLER(h_ups_id);
UPS_HANDLER(h_batt_date);
UPS_HANDLER(h_ambient);
UPS_HANDLER(h_humidity);
UPS_HANDLER(h_measure_fw);
UPS_HANDLER(h_contacts);
UPS_HANDLER(h_alarms);
UPS_HANDLER(h_alarm_enable);
UPS_HANDLER(h_since_test);

#endif
