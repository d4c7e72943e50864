/*
 * nutdump.c - NUT device dumps (nut-ddl .dev files) to profiles.  The
 * parser splits the dump into variables, `#CMD:`/`#RW:` lines and notes;
 * the writer maps every variable NUT's apcsmart driver reads back to the
 * UPS-Link command it came from (protocol-facts sec. 6.1, NUT-T apc_vartab)
 * and writes a profile in the loader's schema (docs/profiles.md), with a
 * comment on every value: `dump: VARIABLE` where the dump gives it,
 * `guess: WHY` where it does not.  Outside input: lengths are bounded,
 * every value is checked against the loader's rules before it is
 * written, and anything unusable ends up in a comment, escaped.
 */
#include "upssim/nutdump.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/cmdtab.h"
#include "upssim/profile.h"

/* ------------------------------------------------------------------ */
/* Parsing                                                             */

static bool name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* Copy @p n bytes to a NUL-terminated @p dst of @p cap; false if cut. */
static bool copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	bool fits = n < cap;
	if (!fits)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return fits;
}

static void note(struct nutdump *d, int line, const char *s, size_t n,
		 const char *why)
{
	if (d->n_notes >= NUTDUMP_MAX_NOTES) {
		d->notes_dropped++;
		return;
	}
	struct nutdump_note *x = &d->notes[d->n_notes++];
	x->line = line;
	x->why = why;
	copy_cut(x->text, sizeof x->text, s, n);
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/* Length of the variable name at @p s (name characters), 0 if none. */
static size_t name_len(const char *s, size_t n)
{
	size_t k = 0;
	while (k < n && name_char((unsigned char)s[k]))
		k++;
	return k;
}

static struct nutdump_enum *enum_for(struct nutdump *d, const char *name)
{
	for (int i = 0; i < d->n_enums; i++)
		if (!strcmp(d->enums[i].name, name))
			return &d->enums[i];
	if (d->n_enums >= NUTDUMP_MAX_ENUMS)
		return NULL;
	struct nutdump_enum *e = &d->enums[d->n_enums++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	return e;
}

/* `#RW:name:ENUM:"value"`, `#RW:name:STRING[:n]`, `#RW:name:RANGE...` */
static void rw_line(struct nutdump *d, int line, const char *s, size_t n)
{
	const char *p = s + 4;
	size_t rest = n - 4, k = name_len(p, rest);
	if (!k || k >= NUTDUMP_NAME || k >= rest || p[k] != ':') {
		note(d, line, s, n, "a #RW line the importer cannot read");
		return;
	}
	char name[NUTDUMP_NAME];
	copy_cut(name, sizeof name, p, k);
	p += k + 1;
	rest -= k + 1;
	if (starts(p, rest, "STRING")) {
		if (d->n_strings < NUTDUMP_MAX_CMDS)
			snprintf(d->strings[d->n_strings++], NUTDUMP_NAME, "%s",
				 name);
		return;
	}
	if (!starts(p, rest, "ENUM:")) {
		note(d, line, s, n, "a writable variable of a kind the "
		     "importer does not use (only ENUM lists become EEPROM "
		     "lists)");
		return;
	}
	p += 5;
	rest -= 5;
	if (rest >= 2 && p[0] == '"' && p[rest - 1] == '"') {
		p++;
		rest -= 2;
	}
	struct nutdump_enum *e = enum_for(d, name);
	if (!e || e->n >= NUTDUMP_MAX_CHOICES || rest >= NUTDUMP_VALUE ||
	    memchr(p, '\0', rest)) {
		note(d, line, s, n, "an ENUM choice beyond what a UPS-Link "
		     "list can hold (8 values of at most 8 characters)");
		return;
	}
	if (!e->n)
		e->line = line;
	copy_cut(e->choices[e->n++], NUTDUMP_VALUE, p, rest);
}

static void hash_line(struct nutdump *d, int line, const char *s, size_t n,
		      bool *in_comment)
{
	if (starts(s, n, "#CMD:")) {
		size_t k = name_len(s + 5, n - 5);
		if (!k || k != n - 5 || k >= NUTDUMP_NAME ||
		    d->n_cmds >= NUTDUMP_MAX_CMDS)
			note(d, line, s, n, "a #CMD line the importer cannot "
			     "read");
		else
			copy_cut(d->cmds[d->n_cmds++], NUTDUMP_NAME, s + 5, k);
		return;
	}
	if (starts(s, n, "#RW:")) {
		rw_line(d, line, s, n);
		return;
	}
	/* "# DEVICE:URL:REPORT: ..." and a "# DEVICE:COMMENT:" block that
	 * ends at "# DEVICE:EOC" (nut-ddl's own markers) */
	const char *p = s + 1;
	size_t rest = n - 1;
	while (rest && *p == ' ') {
		p++;
		rest--;
	}
	if (starts(p, rest, "DEVICE:URL:REPORT:")) {
		p += 18;
		rest -= 18;
		while (rest && *p == ' ') {
			p++;
			rest--;
		}
		if (!copy_cut(d->url, sizeof d->url, p, rest))
			note(d, line, s, n, "the report address, cut");
		return;
	}
	if (starts(p, rest, "DEVICE:COMMENT:")) {
		*in_comment = true;
		return;
	}
	if (starts(p, rest, "DEVICE:EOC")) {
		*in_comment = false;
		return;
	}
	if (*in_comment && d->n_comment < 4) {
		copy_cut(d->comment[d->n_comment++], sizeof d->comment[0], p,
			 rest);
		return;
	}
	note(d, line, s, n, "a comment of the dump");
}

static void var_line(struct nutdump *d, int line, const char *s, size_t n,
		     size_t k)
{
	const char *v = s + k + 1;
	size_t vn = n - k - 1;
	if (vn && *v == ' ') {
		v++;
		vn--;
	}
	char name[NUTDUMP_NAME];
	copy_cut(name, sizeof name, s, k);
	if (nutdump_get(d, name)) {
		note(d, line, s, n, "the variable again (the first one is used)");
		return;
	}
	if (vn >= NUTDUMP_VALUE || memchr(v, '\0', vn)) {
		note(d, line, s, n, "a value longer than any UPS-Link reply "
		     "field, or with a NUL byte");
		return;
	}
	if (d->n_vars >= NUTDUMP_MAX_VARS) {
		note(d, line, s, n, "more variables than a dump of one UPS has");
		return;
	}
	struct nutdump_var *x = &d->vars[d->n_vars++];
	memcpy(x->name, name, sizeof name);
	copy_cut(x->value, sizeof x->value, v, vn);
	x->line = line;
}

enum ups_rc nutdump_parse(const char *src, const char *text, size_t len,
			  struct nutdump *out, struct ups_diag *d)
{
	if (!out || (!text && len))
		return UPS_EARG;
	if (!src)
		src = "dump";
	memset(out, 0, sizeof *out);
	if (len > NUTDUMP_MAX_TEXT) {
		ups_diag_set(d, src, 0, 0, "larger than %d bytes: not a NUT "
			     "device dump (a real one has a few kilobytes)",
			     NUTDUMP_MAX_TEXT);
		return UPS_EPARSE;
	}
	bool in_comment = false;
	int line = 0;
	for (size_t i = 0; i < len;) {
		const char *s = text + i;
		const char *nl = memchr(s, '\n', len - i);
		size_t n = nl ? (size_t)(nl - s) : len - i;
		i += n + (nl != NULL);
		line++;
		if (n && s[n - 1] == '\r')
			n--;
		size_t lead = 0;
		while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
			lead++;
		if (lead == n)
			continue; /* blank */
		size_t k = name_len(s, n);
		if (s[0] == '#')
			hash_line(out, line, s, n, &in_comment);
		else if (k && k < n && s[k] == ':' && k < NUTDUMP_NAME)
			var_line(out, line, s, n, k);
		else
			note(out, line, s, n, "not a \"variable: value\" line");
	}
	out->lines = line;
	if (!out->n_vars) {
		ups_diag_set(d, src, line ? 1 : 0, line ? 1 : 0,
			     "not a NUT device dump: no \"variable: value\" "
			     "line (expected upsc output such as "
			     "\"ups.model: Smart-UPS 1500\")");
		return UPS_EPARSE;
	}
	return UPS_OK;
}

const char *nutdump_get(const struct nutdump *dump, const char *name)
{
	for (int i = 0; i < dump->n_vars; i++)
		if (!strcmp(dump->vars[i].name, name))
			return dump->vars[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

struct out {
	struct ups_buf *b;
	enum ups_rc rc;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->rc == UPS_OK)
		o->rc = ups_buf_append(o->b, s, n);
}

/* A string literal, its length counted by the compiler. */
#define PUTS(o, lit) put((o), (lit), sizeof(lit) - 1)

__attribute__((format(printf, 2, 3)))
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/*
 * Text from the dump inside a comment or a quoted string: printable ASCII
 * as it is, every other byte as \xNN, so the YAML stays valid UTF-8 and no
 * byte can end the comment or drive a terminal.  @p quoted also escapes
 * `"` and `\` (a YAML double-quoted scalar).
 */
static void put_esc(struct out *o, const char *s, bool quoted)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7F && !(quoted && (c == '"' || c == '\\'))) {
			put(o, (const char *)&c, 1);
		} else if (quoted && (c == '"' || c == '\\')) {
			char e[2] = { '\\', (char)c };
			put(o, e, 2);
		} else {
			char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			put(o, e, 4);
		}
	}
}

/* After a value on the same line: "   # " and the text, escaped. */
__attribute__((format(printf, 2, 3)))
static void trail(struct out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	PUTS(o, "   # ");
	put_esc(o, tmp, false);
	PUTS(o, "\n");
}

static void put_q(struct out *o, const char *s)
{
	PUTS(o, "\"");
	put_esc(o, s, true);
	PUTS(o, "\"");
}

/* A comment: "# " and the formatted text, escaped, then a newline. */
__attribute__((format(printf, 3, 4)))
static void comment(struct out *o, const char *indent, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	putf(o, "%s# ", indent);
	put_esc(o, tmp, false);
	PUTS(o, "\n");
}

/* ------------------------------------------------------------------ */
/* Value rules (the profile loader's, docs/profiles.md "Value types")   */

/* printable ASCII without the UPS-Link alert characters, <= @p max */
static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c > 0x7E || strchr(PROF_ALERT_CHARS, c))
			return false;
	}
	return true;
}

/* `b` as the profile takes it (31 characters at most) */
static bool b_format(const char *s)
{
	return strlen(s) <= 31 && prof_firmware_format(s);
}

/* a date as the profile takes it, in the 8 characters of `x` */
static bool date_format(const char *s)
{
	return strlen(s) <= 8 && prof_date_format(s);
}

/* A plain decimal number (NUT passes the unit's digits on), in range. */
static bool number(const char *s, double lo, double hi, double *v)
{
	const char *p = s;
	if (*p == '-')
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return false;
	int dots = 0;
	for (; *p; p++) {
		if (*p == '.' && !dots)
			dots++;
		else if (!(*p >= '0' && *p <= '9'))
			return false;
	}
	if (strlen(s) > 24)
		return false;
	double d = strtod(s, NULL);
	if (!isfinite(d) || d < lo || d > hi)
		return false;
	*v = d;
	return true;
}

static bool ieq_prefix(const char *s, const char *word)
{
	for (; *word; s++, word++) {
		char a = *s, b = *word;
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* Does @p s contain @p word (lower case), case-insensitively? */
static bool icontains(const char *s, const char *word)
{
	for (; *s; s++)
		if (ieq_prefix(s, word))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* The importer                                                        */

/*
 * What NUT's apcsmart driver calls the variables it reads, and the
 * UPS-Link command each comes from (NUT-T apc_vartab, protocol-facts
 * sec. 6.1).  `since` is the first NUT version (major * 100 + minor) whose
 * driver read it under this name: a dump from an older NUT says nothing
 * about the command.  `infer` marks the commands whose absence from a
 * complete dump says the unit does not answer them.
 */
struct var_def {
	const char *name;
	uint8_t cmd;
	int since;
	bool infer;
};

static const struct var_def vars[] = {
	{ "ups.temperature", 'C', 200, true },
	{ "ups.load", 'P', 200, true },
	{ "ups.test.interval", 'E', 200, true },
	{ "ups.test.result", 'X', 200, true },
	{ "ups.delay.start", 'r', 200, true },
	{ "ups.delay.shutdown", 'p', 200, true },
	{ "ups.id", 'c', 200, true },
	{ "ups.contacts", 'i', 200, false },
	{ "ups.display.language", 0x0C, 206, false },
	{ "input.voltage", 'L', 200, true },
	{ "input.frequency", 'F', 200, true },
	{ "input.sensitivity", 's', 200, true },
	{ "input.quality", '9', 200, true },
	{ "input.transfer.low", 'l', 200, true },
	{ "input.transfer.high", 'u', 200, true },
	{ "input.transfer.reason", 'G', 200, true },
	{ "input.voltage.maximum", 'M', 200, true },
	{ "input.voltage.minimum", 'N', 200, true },
	{ "output.current", '/', 200, false },
	{ "output.voltage", 'O', 200, true },
	{ "output.voltage.nominal", 'o', 202, true },
	{ "battery.date", 'x', 200, true },
	{ "battery.charge", 'f', 200, true },
	{ "battery.charge.restart", 'e', 200, true },
	{ "battery.voltage", 'B', 200, true },
	{ "battery.voltage.nominal", 'g', 200, true },
	{ "battery.runtime", 'j', 200, true },
	{ "battery.runtime.low", 'q', 200, true },
	{ "battery.packs", '>', 200, false },
	{ "battery.packs.bad", '<', 200, false },
	{ "battery.alarm.threshold", 'k', 200, true },
	{ "ups.serial", 'n', 200, true },
	{ "ups.mfr.date", 'm', 200, true },
	{ "ups.model", 0x01, 200, false },
	{ "ups.firmware.aux", 'v', 200, false },
	{ "ups.firmware", 'b', 200, false },
	{ "ups.firmware.old", 'V', 206, false },
	{ "ambient.temperature", 't', 200, false },
	{ "ambient.humidity", 'h', 200, false },
};

/* Earlier names of the same variables (NUT 2.0). */
static const struct { const char *old, *now; } renamed[] = {
	{ "output.voltage.target.battery", "output.voltage.nominal" },
};

/* A dump from the driver's fallback path (`a` not understood, e.g. NUT
 * 2.7.1 and a protocol-level-4 unit, NUT-GIT) holds only these: what is
 * missing from it says nothing about the unit (protocol-facts sec. 6.1). */
static const char *const probe_path_vars[] = {
	"ups.temperature", "ups.load", "input.voltage", "output.voltage",
	"battery.charge", "battery.voltage", "ups.model", "ups.serial",
	"ups.firmware", "output.current", "ups.mfr", "ups.status",
};

/* The value lists of the customizing commands (protocol-facts sec. 4). */
struct std_list {
	uint8_t cmd;
	char loc;           /* voltage version, or '4' for every version */
	unsigned fams;      /* families the list is for */
	int count;
	const char *v[8];
	const char *ref;
};

#define F_SMART (UPS_FAM_OLD | UPS_FAM_SU2 | UPS_FAM_SU3 | UPS_FAM_VS | UPS_FAM_BUP)
#define F_ALL (F_SMART | UPS_FAM_MATRIX)
#define F_NEW (UPS_FAM_SU3 | UPS_FAM_VS | UPS_FAM_BUP)
#define F_OLDER (UPS_FAM_OLD | UPS_FAM_SU2)

static const struct std_list lists[] = {
	{ 'u', 'A', F_SMART, 4, { "110", "112", "114", "108" }, "ULS p.18" },
	{ 'u', 'D', F_SMART, 4, { "132", "135", "138", "129" }, "ULS p.18" },
	{ 'u', 'M', F_SMART, 4, { "229", "234", "239", "224" }, "ULS p.18" },
	{ 'u', 'I', F_SMART, 4, { "253", "264", "271", "280" }, "ULS p.18" },
	{ 'u', 'J', UPS_FAM_MATRIX, 4, { "230", "232", "234", "236" }, "ULS p.18 (Matrix, 200 V)" },
	{ 'u', 'M', UPS_FAM_MATRIX, 4, { "240", "244", "248", "252" }, "ULS p.18 (Matrix, 208 V)" },
	{ 'u', 'I', UPS_FAM_MATRIX, 4, { "276", "264", "253", "282" }, "ULS p.18 (Matrix, 240 V)" },
	{ 'l', 'A', F_SMART, 4, { "090", "092", "081", "085" }, "ULS p.18" },
	{ 'l', 'D', F_SMART, 4, { "103", "100", "097", "106" }, "ULS p.18" },
	{ 'l', 'M', F_SMART, 4, { "177", "172", "168", "182" }, "ULS p.18" },
	{ 'l', 'I', F_SMART, 4, { "196", "188", "208", "204" }, "ULS p.18" },
	{ 'o', 'A', F_ALL, 1, { "100" }, "ULS p.19" },
	{ 'o', 'D', F_ALL, 1, { "115" }, "ULS p.19" },
	{ 'o', 'M', F_ALL, 1, { "208" }, "ULS p.19" },
	{ 'o', 'J', F_ALL, 1, { "100" }, "ULS p.15" },
	{ 'o', 'I', F_ALL, 4, { "225", "230", "240", "220" }, "ULS p.19-20" },
	{ 'e', '4', F_NEW, 4, { "00", "15", "50", "90" }, "ULS p.19 (3rd generation)" },
	{ 'e', '4', F_OLDER, 4, { "00", "10", "25", "90" }, "ULS p.19 (older models)" },
	{ 's', '4', F_SMART, 4, { "H", "M", "L", "L" }, "ULS p.20" },
	{ 's', '4', UPS_FAM_MATRIX, 4, { "H", "M", "L", "A" }, "ULS p.20 (Matrix)" },
	{ 'q', '4', F_ALL, 4, { "02", "05", "07", "10" }, "ULS p.21" },
	{ 'k', '4', F_ALL, 4, { "0", "T", "L", "N" }, "ULS p.21" },
	{ 'p', '4', F_ALL, 4, { "020", "180", "300", "600" }, "ULS p.21" },
	{ 'r', '4', F_ALL, 4, { "000", "060", "180", "300" }, "ULS p.22" },
	{ 'E', '4', F_ALL, 4, { "336", "168", "ON ", "OFF" }, "ULS p.17" },
	{ 0x0C, '4', F_ALL, 8, { "E", "F", "G", "S", "1", "2", "3", "4" }, "ULS p.16-17" },
};

/* The settings NUT shows, in the order the profile lists them. */
enum conv { CV_RAW, CV_MINUTES, CV_HOURS };
static const struct setting {
	uint8_t cmd;
	const char *var;
	enum conv conv;
	const char *what;
} settings[] = {
	{ 'u', "input.transfer.high", CV_RAW, "upper transfer voltage" },
	{ 'l', "input.transfer.low", CV_RAW, "lower transfer voltage" },
	{ 'e', "battery.charge.restart", CV_RAW, "charge to restart, %" },
	{ 'o', "output.voltage.nominal", CV_RAW, "output voltage on battery" },
	{ 's', "input.sensitivity", CV_RAW, "sensitivity" },
	{ 'q', "battery.runtime.low", CV_MINUTES, "low-battery warning, minutes" },
	{ 'k', "battery.alarm.threshold", CV_RAW, "audible alarm" },
	{ 'p', "ups.delay.shutdown", CV_RAW, "shutdown delay, s" },
	{ 'r', "ups.delay.start", CV_RAW, "turn-on delay, s" },
	{ 'E', "ups.test.interval", CV_HOURS, "self-test interval" },
	{ 0x0C, "ups.display.language", CV_RAW, "front panel language" },
};

/* NUT-T compatibility table: V codes NUT 2.8 knows without `a`. */
static const char *const compat_codes[] = {
	"0ZI", "0XI", "0XM", "5UI", "5ZM", "6QD", "6QI", "6TD", "6TI", "7QD",
	"7QI", "7TD", "7TI", "7II", "8QD", "8QI", "8TD", "8TI", "8II", "8GI",
	"9II", "9GI",
};

struct imp {
	const struct nutdump *dp;
	bool used[NUTDUMP_MAX_VARS];
	const char *why[NUTDUMP_MAX_VARS]; /* why a variable is not used */
	struct out o;
	int ver;                  /* NUT version, major * 100 + minor; 0 unknown */
	char ver_text[32];
	char driver[32];
	char file[128];           /* the dump's file name, last component */
	char file_model[64];      /* nut-ddl file name: the model part */
	char model[64];           /* best model name for messages */
	enum ups_family fam;
	const char *fam_why;
	char locale;
	const char *locale_why;
	int nominal;
	int freq;                 /* voltage.frequency written */
	bool online;              /* an on-line unit: O stays at o */
	bool infer;               /* absence of a variable means no command */
	const char *infer_why;
	uint8_t add[32], remove[32];
	const char *add_why[256], *remove_why[256];
	bool measure;
	char v_code[4];
	char b_code[32];
};

static int var_index(const struct imp *m, const char *name)
{
	for (int i = 0; i < m->dp->n_vars; i++)
		if (!strcmp(m->dp->vars[i].name, name))
			return i;
	return -1;
}

/* The value of @p name, marked used; NULL if the dump lacks it. */
static const char *take(struct imp *m, const char *name)
{
	int i = var_index(m, name);
	if (i < 0)
		return NULL;
	m->used[i] = true;
	return m->dp->vars[i].value;
}

/* Only look at the value; used elsewhere or noted as unused. */
static const char *peek(const struct imp *m, const char *name)
{
	int i = var_index(m, name);
	return i < 0 ? NULL : m->dp->vars[i].value;
}

static void set_unused(struct imp *m, const char *name, const char *why)
{
	int i = var_index(m, name);
	if (i >= 0)
		m->why[i] = why; /* listed at the end, taken or not */
}

static bool has_bit(const uint8_t *set, uint8_t b)
{
	return (set[b >> 3] >> (b & 7)) & 1u;
}

static void set_bit(uint8_t *set, uint8_t b, bool on)
{
	if (on)
		set[b >> 3] |= (uint8_t)(1u << (b & 7));
	else
		set[b >> 3] &= (uint8_t)~(1u << (b & 7));
}

static void cmd_add(struct imp *m, uint8_t b, const char *why)
{
	set_bit(m->add, b, true);
	set_bit(m->remove, b, false);
	m->add_why[b] = why;
}

static void cmd_remove(struct imp *m, uint8_t b, const char *why)
{
	set_bit(m->remove, b, true);
	set_bit(m->add, b, false);
	m->remove_why[b] = why;
}

/* Does the unit answer @p b: the family's table rows, then the dump? */
static bool answers(const struct imp *m, uint8_t b)
{
	if (has_bit(m->remove, b))
		return false;
	if (has_bit(m->add, b))
		return true;
	const struct cmd_def *row = cmd_lookup(b);
	return row && (row->families & m->fam) && !(row->flags & CF_MEASURE);
}

/* major * 100 + minor of "2.2.1-", "2.6.5", "1.4.0"; 0 if not a version */
static int parse_version(const char *s)
{
	if (!s || !(s[0] >= '0' && s[0] <= '9'))
		return 0;
	char *end;
	long major = strtol(s, &end, 10);
	if (*end != '.' || major < 0 || major > 99 || end[1] < '0' || end[1] > '9')
		return 0;
	long minor = strtol(end + 1, NULL, 10);
	if (minor < 0 || minor > 99)
		return 0;
	return (int)(major * 100 + minor);
}

/*
 * nut-ddl file names: MFR__MODEL__DRIVER__NUTVERSION__NN.dev, with spaces
 * in the model written as "_" (APC__Smart-UPS_1500__apcsmart__2.2.1__01.dev).
 */
static void parse_file_name(struct imp *m, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL;
	base = base ? base + 1 : path ? path : "";
	snprintf(m->file, sizeof m->file, "%s", base);
	const char *parts[6];
	size_t lens[6];
	int n = 0;
	const char *p = m->file;
	while (n < 6) {
		const char *sep = strstr(p, "__");
		parts[n] = p;
		lens[n] = sep ? (size_t)(sep - p) : strlen(p);
		n++;
		if (!sep)
			break;
		p = sep + 2;
	}
	if (n < 5)
		return;
	if (lens[1] && lens[1] < sizeof m->file_model) {
		for (size_t i = 0; i < lens[1]; i++)
			m->file_model[i] = parts[1][i] == '_' ? ' ' : parts[1][i];
		m->file_model[lens[1]] = '\0';
		if (!printable(m->file_model, 32))
			m->file_model[0] = '\0';
	}
	if (!m->ver && lens[3] < 16) {
		char v[16];
		copy_cut(v, 10, parts[3], lens[3]);
		m->ver = parse_version(v);
		if (m->ver && printable(v, 9))
			snprintf(m->ver_text, sizeof m->ver_text, "%s (file name)", v);
		else if (m->ver)
			snprintf(m->ver_text, sizeof m->ver_text, "%d.%d (file "
				 "name)", m->ver / 100, m->ver % 100);
	}
	if (!m->driver[0] && lens[2] && lens[2] < sizeof m->driver)
		copy_cut(m->driver, sizeof m->driver, parts[2], lens[2]);
}

/* The first whole number of 3-5 digits in @p s (a model's VA rating). */
static int model_number(const char *s)
{
	for (; *s; s++) {
		if (!(*s >= '0' && *s <= '9'))
			continue;
		char *end;
		long v = strtol(s, &end, 10);
		if (end - s >= 3 && end - s <= 5 && v >= 200 && v <= 20000)
			return (int)v;
		s = end - 1;
	}
	return 0;
}

static const char *family_yaml(enum ups_family f)
{
	return prof_family_name(f);
}

static char locale_of_voltage(double v)
{
	if (v <= 0)
		return 0;
	if (v < 110)
		return 'A';
	if (v < 150)
		return 'D';
	if (v < 204)
		return 'J';
	if (v < 215)
		return 'M';
	return 'I';
}

static int nominal_of_locale(char loc)
{
	switch (loc) {
	case 'A': return 100;
	case 'D': return 120;
	case 'J': return 200;
	case 'M': return 208;
	default: return 230;
	}
}

/* ---- identity, family, locale ---- */

static void decide_family(struct imp *m)
{
	const char *model = peek(m, "ups.model");
	if (!model)
		model = peek(m, "device.model");
	const char *fw = peek(m, "ups.firmware");
	bool named = model && printable(model, 32) && model[0];
	/* NUT's own name for a unit without ^A says less than the file's */
	bool generic = named && (!strcmp(model, "Smart-UPS") ||
				 !strcmp(model, "Matrix-UPS"));
	snprintf(m->model, sizeof m->model, "%s",
		 named && !(generic && m->file_model[0]) ? model :
		 m->file_model[0] ? m->file_model : "UPS");
	const char *names[2] = { named ? model : "", m->file_model };
	m->fam = UPS_FAM_SU3;
	m->fam_why = "guess: a Smart-UPS that names itself (^A) and, on "
		     "newer NUT, answers b: 3rd generation";
	for (int i = 0; i < 2; i++) {
		if (icontains(names[i], "matrix")) {
			m->fam = UPS_FAM_MATRIX;
			m->fam_why = "the model name says Matrix-UPS";
			m->online = true;
			return;
		}
		if (icontains(names[i], "back-ups")) {
			m->fam = UPS_FAM_BUP;
			m->fam_why = "the model name says Back-UPS";
			return;
		}
		if (icontains(names[i], "v/s") || icontains(names[i], " vs")) {
			m->fam = UPS_FAM_VS;
			m->fam_why = "the model name says Smart-UPS v/s";
			return;
		}
	}
	/* on-line units hold their output at `o` (profile double_conversion) */
	m->online = icontains(m->model, " rt") || icontains(m->model, " dp ") ||
		    icontains(m->file_model, " rt") ||
		    icontains(m->file_model, " dp ");
	bool has_b = fw && b_format(fw);
	if (named && !strcmp(model, "Smart-UPS") && !has_b) {
		m->fam = UPS_FAM_SU2;
		m->fam_why = "guess: NUT named the unit \"Smart-UPS\" itself "
			     "(no ^A) and read no b: an older Smart-UPS, known "
			     "by its V code";
		return;
	}
	if (fw && strlen(fw) == 3 && !has_b) {
		m->fam = UPS_FAM_SU2;
		m->fam_why = "guess: a V code but no b: an older Smart-UPS";
	}
}

static void decide_locale(struct imp *m)
{
	const char *fw = peek(m, "ups.firmware");
	const char *old = peek(m, "ups.firmware.old");
	double v;
	if (fw && b_format(fw) && strchr("ADIMJ", fw[strlen(fw) - 1])) {
		m->locale = fw[strlen(fw) - 1];
		m->locale_why = "dump: ups.firmware, its country character "
				"(ULS p.11-12)";
		return;
	}
	if (fw && strlen(fw) == 3 && strchr("ADIMJ", fw[2]) && fw[2]) {
		m->locale = fw[2];
		m->locale_why = "dump: ups.firmware, the V code's voltage "
				"character (ULS p.7)";
		return;
	}
	if (old && strlen(old) == 3 && strchr("ADIMJ", old[2]) && old[2]) {
		m->locale = old[2];
		m->locale_why = "dump: ups.firmware.old, the V code's voltage "
				"character (ULS p.7)";
		return;
	}
	const char *o = peek(m, "output.voltage.nominal");
	if (!o)
		o = peek(m, "output.voltage.target.battery");
	if (o && number(o, 50, 300, &v) && locale_of_voltage(v)) {
		m->locale = locale_of_voltage(v);
		m->locale_why = "guess: from the output voltage on battery "
				"(output.voltage.nominal)";
		return;
	}
	const char *in = peek(m, "input.voltage");
	if (in && number(in, 50, 300, &v)) {
		m->locale = locale_of_voltage(v);
		m->locale_why = "guess: from the line voltage (input.voltage)";
		return;
	}
	m->locale = 'D';
	m->locale_why = "guess: the dump gives no voltage; 120 V";
}

/* A V code NUT 2.8 knows from its compatibility table (NUT-T): the
 * model's digit (ULS p.7), the locale, a firmware letter that exists. */
static void guess_v_code(struct imp *m, char *why, size_t cap)
{
	int va = model_number(m->file_model[0] ? m->file_model : m->model);
	if (!va)
		va = model_number(m->model);
	char digit = 0;
	if (m->fam == UPS_FAM_MATRIX)
		digit = va == 5000 ? '5' : '0';
	else
		digit = va <= 250 && va ? '2' : va <= 450 && va ? '4' :
			va <= 700 && va ? '6' : va <= 1000 && va ? '7' :
			va <= 1400 && va ? '8' : va ? '9' : '6';
	for (size_t i = 0; i < sizeof compat_codes / sizeof compat_codes[0]; i++)
		if (compat_codes[i][0] == digit && compat_codes[i][2] == m->locale) {
			snprintf(m->v_code, sizeof m->v_code, "%s", compat_codes[i]);
			snprintf(why, cap, "guess: V code of NUT's compatibility "
				 "table for %s (%c = %d VA class, %c = the "
				 "voltage version); NUT 2.8 knows the unit by it",
				 m->fam == UPS_FAM_MATRIX ? "a Matrix-UPS" :
				 "an older Smart-UPS", digit, va, m->locale);
			return;
		}
	snprintf(m->v_code, sizeof m->v_code, "%cQ%c", digit, m->locale);
	snprintf(why, cap, "guess: V code from the model's VA class (ULS "
		 "p.7); not in NUT's compatibility table, so NUT reads only "
		 "a few values");
}

/* ---- the command set ---- */

static bool in_probe_path(const struct imp *m)
{
	for (int i = 0; i < m->dp->n_vars; i++) {
		const char *n = m->dp->vars[i].name;
		if (!strncmp(n, "driver.", 7) || !strncmp(n, "device.", 7))
			continue;
		bool found = false;
		for (size_t k = 0; k < sizeof probe_path_vars /
				       sizeof probe_path_vars[0]; k++)
			found = found || !strcmp(n, probe_path_vars[k]);
		if (!found)
			return false;
	}
	return true;
}

static bool present_any(const struct imp *m, const char *name)
{
	if (peek(m, name))
		return true;
	for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
		if (!strcmp(renamed[i].now, name) && peek(m, renamed[i].old))
			return true;
	return false;
}

static void decide_commands(struct imp *m)
{
	int n_unit = 0;
	for (int i = 0; i < m->dp->n_vars; i++) {
		const char *n = m->dp->vars[i].name;
		if (strncmp(n, "driver.", 7) && strncmp(n, "device.", 7) &&
		    strcmp(n, "ups.mfr") && strcmp(n, "ups.status"))
			n_unit++;
	}
	if (!m->ver) {
		m->infer_why = "the NUT version that made the dump is unknown";
	} else if (m->ver < 202) {
		m->infer_why = "NUT before 2.2 read fewer variables";
	} else if (in_probe_path(m)) {
		m->infer_why = "the driver did not understand the unit's "
			       "command list (`a`) and probed only C P L O f B "
			       "^A n b / (protocol-facts sec. 6.1)";
	} else if (n_unit < 8) {
		m->infer_why = "the dump holds too few variables";
	} else {
		m->infer = true;
	}
	/* what the dump has, the unit answers */
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const struct var_def *v = &vars[i];
		if (!present_any(m, v->name))
			continue;
		if (v->cmd == 't' || v->cmd == 'h' || v->cmd == 'i' ||
		    v->cmd == 'v') {
			m->measure = true; /* the accessory brings them */
			continue;
		}
		if (v->cmd == 'b' || v->cmd == 'V' || v->cmd == 0x01)
			continue; /* identity strings decide these */
		if (!answers(m, v->cmd))
			cmd_add(m, v->cmd, v->name);
	}
	if (!m->infer)
		return;
	/* what a complete dump lacks, the unit does not answer */
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const struct var_def *v = &vars[i];
		if (!v->infer || v->since > m->ver || present_any(m, v->name))
			continue;
		if (answers(m, v->cmd))
			cmd_remove(m, v->cmd, v->name);
	}
}

/* ---- writing ---- */

static void put_cmd_bytes(struct out *o, const uint8_t *set)
{
	char s[260];
	size_t n = 0;
	for (int b = 1; b < 256; b++)
		if (has_bit(set, (uint8_t)b))
			s[n++] = (char)b;
	s[n] = '\0';
	put_q(o, s);
}

static void write_header(struct imp *m)
{
	struct out *o = &m->o;
	comment(o, "", "%s, imported by `upssim --import-nut-dump` from a NUT "
		"device dump", m->model);
	if (m->file[0])
		comment(o, "", "(%s, from the NUT device-dump library nut-ddl, "
			"github.com/networkupstools/nut-ddl).", m->file);
	comment(o, "", "The dump is what `upsc` showed for a real unit (NUT %s, "
		"driver %s).", m->ver_text[0] ? m->ver_text : "version unknown",
		m->driver[0] ? m->driver : "unknown");
	comment(o, "", "Values taken from it say \"dump: VARIABLE\"; every "
		"other value says \"guess:\" and why.");
	comment(o, "", "Lines of the dump not used are listed at the end.");
	if (m->dp->url[0])
		comment(o, "", "Report: %s", m->dp->url);
	for (int i = 0; i < m->dp->n_comment; i++)
		comment(o, "", "Dump comment: %s", m->dp->comment[i]);
	putf(o, "description: ");
	char desc[160];
	snprintf(desc, sizeof desc, "APC %.60s (NUT device dump, NUT %.12s)",
		 m->model, m->ver_text[0] ? m->ver_text : "?");
	char *sp = strstr(desc, " (file name)");
	if (sp)
		memmove(sp, sp + 12, strlen(sp + 12) + 1);
	for (char *c = desc; *c; c++) /* a one-line text, ASCII only here */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
			*c = '?';
	put_q(o, desc);
	PUTS(o, "\n");
	putf(o, "family: %s", family_yaml(m->fam));
	trail(o, "%s", m->fam_why);
	if (m->measure)
		putf(o, "measure_ups: true   # dump: ambient.* / ups.contacts "
		     "(a Measure-UPS, ULS sec. 4)\n");
}

/* "  key: "value"   # comment" with the value checked by @p ok. */
static void id_line(struct imp *m, const char *key, const char *value,
		    const char *why)
{
	putf(&m->o, "  %s: ", key);
	put_q(&m->o, value);
	trail(&m->o, "%s", why);
}

static void write_identity(struct imp *m)
{
	struct out *o = &m->o;
	char why[256];
	PUTS(o, "identity:\n");

	/* ^A: model */
	const char *model = take(m, "ups.model");
	const char *dev = peek(m, "device.model");
	const char *src = "ups.model";
	if (!model && dev) {
		model = take(m, "device.model");
		src = "device.model";
	}
	if (dev && model && !strcmp(dev, model))
		set_unused(m, "device.model", "the same as ups.model (NUT 2.6+ "
			   "copies it)");
	if (model && printable(model, 32)) {
		bool fallback = m->fam != UPS_FAM_SU3 &&
				(!strcmp(model, "Smart-UPS") ||
				 !strcmp(model, "Matrix-UPS"));
		if (fallback && m->file_model[0]) {
			snprintf(why, sizeof why, "guess: the file name's model; "
				 "dump: %s \"%s\" is the name NUT gives a unit "
				 "that does not answer ^A", src, model);
			id_line(m, "model", m->file_model, why);
		} else {
			snprintf(why, sizeof why, "dump: %s", src);
			id_line(m, "model", model, why);
		}
	} else {
		snprintf(why, sizeof why, "guess: %s", model ?
			 "the dump's model name has characters a reply cannot "
			 "hold (alert characters or over 32)" :
			 "the dump has no model name; the file name's");
		id_line(m, "model", m->file_model[0] ? m->file_model : "UPS",
			why);
	}

	/* b and V */
	const char *fw = take(m, "ups.firmware");
	const char *old = take(m, "ups.firmware.old");
	if (fw && b_format(fw)) {
		snprintf(m->b_code, sizeof m->b_code, "%s", fw);
		if (old && strlen(old) == 3 && printable(old, 3)) {
			snprintf(m->v_code, sizeof m->v_code, "%s", old);
			id_line(m, "firmware_v", old, "dump: ups.firmware.old");
		} else {
			id_line(m, "firmware_v", "", "guess: the dump has no V "
				"code (ups.firmware.old): V answers NA, NUT "
				"reads b");
		}
		id_line(m, "firmware_b", fw, "dump: ups.firmware");
	} else if (fw && strlen(fw) == 3 && printable(fw, 3)) {
		snprintf(m->v_code, sizeof m->v_code, "%s", fw);
		id_line(m, "firmware_v", fw, "dump: ups.firmware (a V code)");
		id_line(m, "firmware_b", "", "guess: no b (ups.firmware is a V "
			"code)");
	} else {
		if (m->fam == UPS_FAM_SU2 || m->fam == UPS_FAM_MATRIX ||
		    m->fam == UPS_FAM_OLD) {
			guess_v_code(m, why, sizeof why);
			id_line(m, "firmware_v", m->v_code, why);
			id_line(m, "firmware_b", "", fw ? "guess: the dump's "
				"ups.firmware is not a b version" : "guess: "
				"the dump has no ups.firmware: no b (ULS p.11)");
		} else {
			/* a 3rd-generation unit always has b (ULS p.11) */
			id_line(m, "firmware_v", "", "guess: the dump has no "
				"firmware: V left out");
			snprintf(m->b_code, sizeof m->b_code, "0.0.%c", m->locale);
			id_line(m, "firmware_b", m->b_code, "guess: the dump has "
				"no usable ups.firmware; a unit of this family "
				"answers b (SKU.FW.country, ULS p.11)");
		}
		if (fw)
			set_unused(m, "ups.firmware", "neither a b version "
				   "(SKU.FW.C) nor a 3-character V code");
	}
	if (old && !m->v_code[0])
		set_unused(m, "ups.firmware.old", "not a 3-character V code");

	/* n: serial */
	const char *ser = take(m, "ups.serial");
	const char *dser = peek(m, "device.serial");
	src = "ups.serial";
	if (!ser && dser) {
		ser = take(m, "device.serial");
		src = "device.serial";
	}
	if (dser && ser && !strcmp(dser, ser))
		set_unused(m, "device.serial", "the same as ups.serial (NUT "
			   "2.6+ copies it)");
	if (ser && printable(ser, 32)) {
		snprintf(why, sizeof why, "dump: %s", src);
		id_line(m, "serial", ser, why);
	} else {
		char guess[13];
		size_t n = ser ? strlen(ser) : 12;
		n = n < 8 ? 8 : n > 12 ? 12 : n;
		memset(guess, '0', n);
		guess[n] = '\0';
		bool masked = ser && ser[0] && strspn(ser, "*") == strlen(ser);
		snprintf(why, sizeof why, "guess: %s", !ser ?
			 "the dump has no serial" : masked ? "the dump's "
			 "serial is masked (its contributor hid it with *)" :
			 "the dump's serial has characters a reply cannot hold "
			 "(alert characters, or over 32)");
		id_line(m, "serial", guess, why);
	}

	/* m and x: dates */
	const char *mfr = take(m, "ups.mfr.date");
	const char *bat = take(m, "battery.date");
	const char *mfr_ok = mfr && date_format(mfr) ? mfr : NULL;
	const char *bat_ok = bat && date_format(bat) ? bat : NULL;
	if (mfr_ok)
		id_line(m, "manufactured", mfr_ok, "dump: ups.mfr.date");
	else
		id_line(m, "manufactured", bat_ok ? bat_ok : "01/01/00",
			bat_ok ? "guess: the battery date (factory batteries)" :
			"guess: the dump gives no date");
	if (bat_ok)
		id_line(m, "battery_date", bat_ok, "dump: battery.date");
	else
		id_line(m, "battery_date", mfr_ok ? mfr_ok : "01/01/00",
			mfr_ok ? "guess: the manufacture date (the factory "
			"sets x = m)" : "guess: the dump gives no date");
	if (mfr && !mfr_ok)
		set_unused(m, "ups.mfr.date", "not a date a unit sends "
			   "(nn/nn/nn)");
	if (bat && !bat_ok)
		set_unused(m, "battery.date", "not a date a unit sends "
			   "(nn/nn/nn)");

	/* c: UPS ID */
	const char *id = take(m, "ups.id");
	if (id && printable(id, 8))
		id_line(m, "ups_id", id, "dump: ups.id");
	else
		id_line(m, "ups_id", "UPS_IDEN", id ? "guess: the dump's ups.id "
			"is longer than 8 or has alert characters; the factory "
			"value of real units" : "guess: the factory value of "
			"real units (protocol-facts sec. 4.3)");
	if (id && !printable(id, 8))
		set_unused(m, "ups.id", "longer than 8 characters or with "
			   "alert characters");
}

static void write_voltage(struct imp *m)
{
	struct out *o = &m->o;
	double f = 0;
	const char *fs = peek(m, "input.frequency");
	bool have_f = fs && number(fs, 40, 70, &f);
	m->nominal = nominal_of_locale(m->locale);
	PUTS(o, "voltage:\n");
	putf(o, "  nominal: %d", m->nominal);
	trail(o, "guess: the usual nominal voltage of version %c",
		m->locale);
	putf(o, "  locale: %c", m->locale);
	trail(o, "%s", m->locale_why);
	int fr = have_f ? (f < 55 ? 50 : 60) : (m->locale == 'I' ? 50 : 60);
	m->freq = fr;
	putf(o, "  frequency: %d", fr);
	if (have_f)
		trail(o, "dump: input.frequency %s, nearest of 50/60",
			fs);
	else
		trail(o, "guess: the dump has no frequency; usual for "
			"version %c", m->locale);
}

/* A list: the std one for this family and locale, or NULL. */
static const struct std_list *std_list_for(const struct imp *m, uint8_t cmd)
{
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (lists[i].cmd == cmd && (lists[i].fams & m->fam) &&
		    (lists[i].loc == '4' || lists[i].loc == m->locale))
			return &lists[i];
	return NULL;
}

struct vlist {
	int count, width, def, cur;
	char v[8][PROF_MAX_WIDTH + 1];
	char loc;
};

/* Convert a NUT value to the unit's form (NUT-C convert_data). */
static bool to_unit(enum conv cv, const char *s, char *out, size_t cap)
{
	double v;
	switch (cv) {
	case CV_MINUTES: /* NUT shows q in seconds */
		if (!number(s, 0, 99 * 60, &v) || fmod(v, 60) != 0)
			return false;
		snprintf(out, cap, "%02d", (int)(v / 60));
		return true;
	case CV_HOURS: /* E in seconds; ON and OFF both read 0 */
		if (!number(s, 0, 999 * 3600.0, &v) || fmod(v, 3600) != 0)
			return false;
		if (v == 0)
			snprintf(out, cap, "OFF");
		else
			snprintf(out, cap, "%03d", (int)(v / 3600));
		return true;
	default:
		if (!printable(s, PROF_MAX_WIDTH) || !s[0])
			return false;
		snprintf(out, cap, "%s", s);
		return true;
	}
}

/* Pad a number to @p width with leading zeros ("90" -> "090"). */
static void zero_pad(char *s, int width)
{
	size_t n = strlen(s);
	if ((int)n >= width || !n)
		return;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return;
	memmove(s + (width - (int)n), s, n + 1);
	memset(s, '0', (size_t)width - n);
}

static int find(const struct vlist *l, const char *v)
{
	for (int i = 0; i < l->count; i++)
		if (!strcmp(l->v[i], v))
			return i;
	return -1;
}

/* Put @p v in the list in place of the entry nearest to it (by number,
 * else the last), never the factory default. @return its index */
static int insert_nearest(struct vlist *l, const char *v)
{
	double x = atof(v), best = 1e18;
	int at = -1;
	/* a value the list has twice (s: H M L L) goes first */
	for (int i = 1; i < l->count; i++)
		for (int k = 0; k < i; k++)
			if (!strcmp(l->v[i], l->v[k]) && i != l->def) {
				snprintf(l->v[i], sizeof l->v[i], "%s", v);
				return i;
			}
	for (int i = 0; i < l->count; i++) {
		if (i == l->def && l->count > 1)
			continue;
		double dist = fabs(atof(l->v[i]) - x);
		if (dist < best) {
			best = dist;
			at = i;
		}
	}
	if (at < 0)
		at = l->count - 1;
	snprintf(l->v[at], sizeof l->v[at], "%s", v);
	return at;
}

/* The RW ENUM choices of the dump as a list, if usable. */
static bool rw_list(struct imp *m, const struct setting *st,
		    const struct std_list *sl, struct vlist *l, char *why,
		    size_t cap)
{
	const struct nutdump_enum *e = NULL;
	for (int i = 0; i < m->dp->n_enums; i++)
		if (!strcmp(m->dp->enums[i].name, st->var))
			e = &m->dp->enums[i];
	if (!e || !e->n)
		return false;
	struct vlist r = { .count = 0, .width = 0 };
	for (int i = 0; i < e->n; i++) {
		char v[NUTDUMP_VALUE];
		if (!to_unit(st->conv, e->choices[i], v, sizeof v) ||
		    strlen(v) > PROF_MAX_WIDTH)
			return false;
		if (st->conv == CV_HOURS && !strcmp(v, "OFF"))
			snprintf(v, sizeof v, "%s", "OFF");
		snprintf(r.v[r.count++], sizeof r.v[0], "%s", v);
	}
	/* NUT lists a value once: a std list with repeats (s H M L L) or
	 * values NUT shows alike (E "ON " and "OFF" are both 0) matches
	 * when its distinct values, converted, are the dump's */
	if (sl) {
		struct vlist d = { 0 };
		for (int i = 0; i < sl->count; i++) {
			char v[PROF_MAX_WIDTH + 1];
			copy_cut(v, sizeof v, sl->v[i], strlen(sl->v[i]));
			if (st->conv == CV_HOURS && (!strcmp(v, "ON ") ||
						     !strcmp(v, "OFF")))
				snprintf(v, sizeof v, "OFF");
			if (find(&d, v) < 0)
				snprintf(d.v[d.count++], sizeof d.v[0], "%s", v);
		}
		bool same = d.count == r.count;
		for (int i = 0; same && i < r.count; i++)
			same = !strcmp(d.v[i], r.v[i]);
		if (same) {
			/* the std list, with its repeats */
			snprintf(why, cap, "dump: the #RW choices of %s are "
				 "the list of %s, %s (NUT shows a value once)",
				 st->var, sl->loc == '4' ? "every voltage "
				 "version" : "this voltage version", sl->ref);
			return false;
		}
	}
	size_t w = strlen(r.v[0]);
	for (int i = 0; i < r.count; i++)
		if (strlen(r.v[i]) != w || !w)
			return false;
	*l = r;
	l->width = (int)w;
	l->def = 0;
	snprintf(why, cap, "dump: the #RW choices of %s, in the unit's ^Z "
		 "order; guess: the first is the factory value", st->var);
	return true;
}

static void write_one_list(struct imp *m, const struct setting *st)
{
	struct out *o = &m->o;
	char nm[8], why[320], cur_why[200];
	cmd_byte_name(st->cmd, nm);
	if (!answers(m, st->cmd)) {
		if (take(m, st->var))
			set_unused(m, st->var, "its command is not answered");
		return;
	}
	const char *dv = take(m, st->var);
	const char *src = st->var;
	if (!dv && st->cmd == 'o') {
		dv = take(m, "output.voltage.target.battery");
		src = "output.voltage.target.battery (NUT 2.0's name)";
	}
	const struct std_list *sl = std_list_for(m, st->cmd);
	struct vlist l = { 0 };
	why[0] = '\0';
	bool from_rw = rw_list(m, st, sl, &l, why, sizeof why);
	if (!from_rw && sl && why[0]) {
		l.count = sl->count;
		l.width = (int)strlen(sl->v[0]);
		for (int i = 0; i < sl->count; i++)
			snprintf(l.v[i], sizeof l.v[i], "%s", sl->v[i]);
		l.def = 0;
	} else if (!from_rw && sl) {
		l.count = sl->count;
		l.width = (int)strlen(sl->v[0]);
		for (int i = 0; i < sl->count; i++)
			snprintf(l.v[i], sizeof l.v[i], "%s", sl->v[i]);
		l.def = 0;
		snprintf(why, sizeof why, "guess: the list of %s, %s",
			 sl->loc == '4' ? "every voltage version" :
			 "this voltage version", sl->ref);
	}
	l.loc = st->cmd == 'u' || st->cmd == 'l' || st->cmd == 'o' ?
		m->locale : '4';
	char uv[NUTDUMP_VALUE] = "";
	bool have = dv && to_unit(st->conv, dv, uv, sizeof uv);
	if (have && l.count)
		zero_pad(uv, l.width);
	if (have && l.count && strlen(uv) != (size_t)l.width)
		have = false;
	if (dv && !have)
		set_unused(m, st->var, "a value the unit's list cannot hold");
	if (!l.count && have) {
		/* no list known for this version: the one value seen */
		l.count = 1;
		l.width = (int)strlen(uv);
		copy_cut(l.v[0], sizeof l.v[0], uv, strlen(uv));
		snprintf(why, sizeof why, "guess: only the dump's value is "
			 "known");
	}
	if (!l.count)
		return; /* the command answers NO: no list (ULS p.18-19) */
	cur_why[0] = '\0';
	l.cur = l.def;
	const char *ov = peek(m, "output.voltage");
	double out_v;
	if (!dv && st->cmd == 'o' && m->online && ov &&
	    number(ov, 50, 300, &out_v)) {
		/* an on-line unit holds O at o: the list's nearest value */
		double best = 1e9;
		for (int i = 0; i < l.count; i++)
			if (fabs(atof(l.v[i]) - out_v) < best) {
				best = fabs(atof(l.v[i]) - out_v);
				l.cur = i;
			}
		comment(o, "  ", "o (%s): guess: the value nearest the dump's "
			"output.voltage %s (an on-line unit holds its output at "
			"o); list: %s", st->what, ov, why);
	} else if (have) {
		int at = find(&l, uv);
		if (at < 0) {
			at = insert_nearest(&l, uv);
			snprintf(cur_why, sizeof cur_why, "; guess: the dump's "
				 "%s is not in the list and takes the place of "
				 "its nearest value", uv);
		}
		l.cur = at;
		comment(o, "  ", "%s (%s): dump: %s %s%s%s; list: %s",
			nm, st->what, src, dv,
			st->conv == CV_HOURS && !strcmp(uv, "OFF") ?
			" (guess: OFF; NUT shows ON and OFF both as 0)" : "",
			cur_why, why);
	} else {
		comment(o, "  ", "%s (%s): guess: the factory value, the dump "
			"has no %s; list: %s", nm, st->what, st->var, why);
	}
	putf(o, "  %s: { locale: \"%c\", values: [", st->cmd == 0x0C ? "^L" : nm,
	     l.loc);
	for (int i = 0; i < l.count; i++) {
		if (i)
			PUTS(o, ", ");
		put_q(o, l.v[i]);
	}
	PUTS(o, "], default: ");
	put_q(o, l.v[l.def]);
	PUTS(o, ", current: ");
	put_q(o, l.v[l.cur]);
	PUTS(o, " }\n");
}

static void write_commands(struct imp *m)
{
	struct out *o = &m->o;
	bool any_add = false, any_remove = false;
	for (int b = 0; b < 256; b++) {
		any_add = any_add || has_bit(m->add, (uint8_t)b);
		any_remove = any_remove || has_bit(m->remove, (uint8_t)b);
	}
	if (!m->infer)
		comment(o, "", "Commands: what the dump lacks says nothing about "
			"the unit: %s. The family's set stays.", m->infer_why);
	if (!any_add && !any_remove)
		return;
	PUTS(o, "commands:\n");
	if (any_add) {
		PUTS(o, "  add: ");
		put_cmd_bytes(o, m->add);
		PUTS(o, "\n");
		for (int b = 1; b < 256; b++)
			if (has_bit(m->add, (uint8_t)b)) {
				char nm[8];
				comment(o, "    ", "%s: dump: %s (not in the "
					"family's default set)",
					cmd_byte_name((uint8_t)b, nm),
					m->add_why[b] ? m->add_why[b] : "?");
			}
	}
	if (any_remove) {
		PUTS(o, "  remove: ");
		put_cmd_bytes(o, m->remove);
		PUTS(o, "\n");
		for (int b = 1; b < 256; b++)
			if (has_bit(m->remove, (uint8_t)b)) {
				char nm[8];
				comment(o, "    ", "%s: guess: the dump has no "
					"%s, which NUT %d.%d reads when the unit "
					"answers it", cmd_byte_name((uint8_t)b, nm),
					m->remove_why[b] ? m->remove_why[b] : "?",
					m->ver / 100, m->ver % 100);
			}
	}
}

static void write_instcmds(struct imp *m)
{
	/* #CMD lines: the instant commands NUT offered (NUT-T apc_cmdtab) */
	static const struct { const char *name; uint8_t cmd; } ic[] = {
		{ "test.panel.start", 'A' }, { "test.failure.start", 'U' },
		{ "test.battery.start", 'W' }, { "calibrate.start", 'D' },
		{ "shutdown.stayoff", 'K' }, { "load.off", 'Z' },
		{ "load.on", 0x0E }, { "shutdown.return", 'S' },
		{ "bypass.start", '^' },
		/* NUT 2.6's name for @ddd; NUT 2.8 has it as shutdown.return
		 * at:N, so a missing one says nothing (only added) */
		{ "shutdown.return.grace", '@' },
	};
	if (!m->dp->n_cmds)
		return;
	for (size_t i = 0; i < sizeof ic / sizeof ic[0]; i++) {
		bool listed = false;
		for (int k = 0; k < m->dp->n_cmds; k++)
			listed = listed || !strcmp(m->dp->cmds[k], ic[i].name);
		if (listed && !answers(m, ic[i].cmd))
			cmd_add(m, ic[i].cmd, ic[i].name);
		else if (!listed && answers(m, ic[i].cmd) && ic[i].cmd != '@')
			cmd_remove(m, ic[i].cmd, ic[i].name);
	}
}

static void write_eeprom(struct imp *m)
{
	bool any = false;
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		any = any || answers(m, settings[i].cmd);
	if (!any)
		return;
	PUTS(&m->o, "eeprom:\n");
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		write_one_list(m, &settings[i]);
}

/* "  key: number   # why" for a dump value in range, else the guess. */
static double num_line(struct imp *m, const char *key, const char *var,
		       double lo, double hi, double guess, int decimals,
		       const char *guess_why)
{
	const char *s = take(m, var);
	double v;
	char buf[64];
	if (s && number(s, lo, hi, &v)) {
		snprintf(buf, sizeof buf, "%.*f", decimals, v);
		putf(&m->o, "  %s: %s   # dump: %s\n", key, buf, var);
		return v;
	}
	if (s)
		set_unused(m, var, "not a number in the range the profile "
			   "takes");
	snprintf(buf, sizeof buf, "%.*f", decimals, guess);
	putf(&m->o, "  %s: %s", key, buf);
	trail(&m->o, "guess: %s", guess_why);
	return guess;
}

static void write_electrical(struct imp *m, double *load_out)
{
	struct out *o = &m->o;
	char why[200];
	PUTS(o, "electrical:\n");
	int va = model_number(m->model);
	if (!va)
		va = model_number(m->file_model);
	if (va) {
		putf(o, "  rated_va: %d", va);
		trail(o, "guess: the number in the model name");
		putf(o, "  rated_w: %d", (int)lround(va * 0.65));
		trail(o, "guess: 65 %% of rated_va, as the Smart-UPS "
			"1500 (980 W)");
	}
	const char *st = peek(m, "ups.status");
	const char *lv = peek(m, "input.voltage");
	double line = m->nominal, v = 0;
	bool on_batt = st && strstr(st, "OB");
	if (lv && number(lv, 0, 999.9, &v) && v > 20 && !on_batt) {
		take(m, "input.voltage");
		line = v;
		putf(o, "  line_voltage: %.1f   # dump: input.voltage\n", line);
	} else {
		if (lv)
			set_unused(m, "input.voltage", on_batt ?
				   "the unit was on battery: the profile starts "
				   "on line" : "no line voltage to start on");
		putf(o, "  line_voltage: %.1f", line);
		trail(o, "guess: the nominal voltage%s", on_batt ?
			" (the dump was taken on battery, ups.status OB; a "
			"scenario {line: off} plays that)" : "");
	}
	double mx, mn;
	const char *ms = peek(m, "input.voltage.maximum");
	const char *ns = peek(m, "input.voltage.minimum");
	if (ms && number(ms, 0, 999.9, &mx) && mx > 20) {
		take(m, "input.voltage.maximum");
		putf(o, "  line_max: %.1f   # dump: input.voltage.maximum%s\n",
		     mx < line ? line : mx,
		     mx < line ? " (raised to line_voltage: M >= L)" : "");
	}
	if (ns && number(ns, 0, 999.9, &mn) && mn > 20) {
		take(m, "input.voltage.minimum");
		putf(o, "  line_min: %.1f   # dump: input.voltage.minimum%s\n",
		     mn > line ? line : mn,
		     mn > line ? " (lowered to line_voltage: N <= L)" : "");
	}
	const char *fs = peek(m, "input.frequency");
	double f;
	if (fs && number(fs, 40, 70, &f)) {
		take(m, "input.frequency");
		putf(o, "  line_frequency: %.2f   # dump: input.frequency\n", f);
	} else {
		/* the line must match voltage.frequency, or the unit starts
		 * on battery (frequency out of tolerance) */
		putf(o, "  line_frequency: %d.00", m->freq);
		trail(o, "guess: the nominal frequency");
		if (fs)
			set_unused(m, "input.frequency", "not a frequency of "
				   "40-70 Hz");
	}
	/* G: letters (NUT before 2.6) or the words NUT-C prints */
	const char *g = take(m, "input.transfer.reason");
	if (g) {
		static const struct { const char *word; char c; } w[] = {
			{ "rate", 'R' }, { "notch", 'T' }, { "spike", 'T' },
			{ "no transfer", 'O' }, { "simulated", 'S' },
			{ "test", 'S' }, { "high", 'H' }, { "low", 'L' },
		};
		char c = 0;
		if (strlen(g) == 1 && strchr("RHLTOS", g[0]) && g[0])
			c = g[0];
		for (size_t i = 0; !c && i < sizeof w / sizeof w[0]; i++)
			if (icontains(g, w[i].word))
				c = w[i].c;
		if (c)
			putf(o, "  transfer_cause: %c   # dump: "
			     "input.transfer.reason\n", c);
		else
			set_unused(m, "input.transfer.reason", "a cause the "
				   "importer does not know");
	}
	/* P; without it, from output.current and the rating (NUT 2.0's
	 * DP 8000 XL dump has / but no P) */
	const char *ls = take(m, "ups.load");
	const char *cs = peek(m, "output.current");
	double load = 25, amps;
	if (ls && number(ls, 0, 200, &load)) {
		putf(o, "  load: %.1f   # dump: ups.load\n", load);
	} else if (cs && number(cs, 0, 999, &amps) && va > 0) {
		if (ls)
			set_unused(m, "ups.load", "not a load in 0-200 %");
		load = amps * m->nominal / va * 100;
		load = load > 200 ? 200 : load;
		putf(o, "  load: %.1f", load);
		snprintf(why, sizeof why, "guess: output.current %s A at %d V "
			 "of rated_va %d VA", cs, m->nominal, va);
		trail(o, "%s", why);
	} else {
		if (ls)
			set_unused(m, "ups.load", "not a load in 0-200 %");
		load = 25;
		putf(o, "  load: %.1f", load);
		trail(o, "guess: the dump has no load; 25 %%");
	}
	*load_out = load;
	num_line(m, "temperature", "ups.temperature", -40, 150, 31.0, 1,
		 "the dump has no internal temperature; a usual value");
	/* on-line units hold their output at `o` (profile double_conversion) */
	if (m->online) {
		PUTS(o, "  double_conversion: true");
		trail(o, "guess: an on-line unit (RT, DP, Matrix) holds "
			"its output at the nominal voltage");
	}
	const char *ov = take(m, "output.voltage");
	if (ov)
		comment(o, "  ", "dump: output.voltage %s: the model computes it "
			"from the line (no SmartBoost/SmartTrim thresholds are "
			"set: the dump does not show them)", ov);
}

static void write_battery(struct imp *m, double load)
{
	struct out *o = &m->o;
	PUTS(o, "battery:\n");
	double nom = 0, bv = 0, charge = 100;
	const char *ns = peek(m, "battery.voltage.nominal");
	const char *bs = peek(m, "battery.voltage");
	bool have_b = bs && number(bs, 1, 999.9, &bv);
	if (ns && number(ns, 1, 999, &nom) && nom >= 1 &&
	    !(have_b && bv > 99.99 && nom < 100)) {
		take(m, "battery.voltage.nominal");
		putf(o, "  nominal_voltage: %g   # dump: "
		     "battery.voltage.nominal\n", nom);
	} else {
		static const double packs[] = { 12, 24, 48, 96, 120, 192, 240 };
		nom = 24;
		if (have_b) {
			double best = 1e9;
			for (size_t i = 0; i < sizeof packs / sizeof packs[0]; i++)
				if (fabs(bv / 1.1375 - packs[i]) < best) {
					best = fabs(bv / 1.1375 - packs[i]);
					nom = packs[i];
				}
		}
		if (ns)
			set_unused(m, "battery.voltage.nominal", "not a usable "
				   "number");
		putf(o, "  nominal_voltage: %g", nom);
		trail(o, "guess: %s", have_b ? "the nearest usual pack "
			"to battery.voltage / 1.1375 (27.30 V float per 24 V)" :
			"the dump has neither battery voltage; 24 V");
	}
	const char *cs = peek(m, "battery.charge");
	if (cs && number(cs, 0, 100, &charge)) {
		take(m, "battery.charge");
		putf(o, "  charge: %.1f   # dump: battery.charge\n", charge);
	}
	double fl = nom * 27.40 / 24;
	if (have_b && (nom >= 100 || bv <= 99.99)) {
		take(m, "battery.voltage");
		putf(o, "  voltage: %.2f   # dump: battery.voltage (B at start)\n",
		     bv);
		if (charge >= 99.95)
			fl = bv;
	} else if (bs) {
		set_unused(m, "battery.voltage", "not a usable number");
	}
	if (nom < 100 && fl > 99.99)
		fl = 99.99;
	if (fl > 999.9)
		fl = 999.9;
	putf(o, "  float_voltage: %.2f", fl);
	trail(o, "%s", fl == bv ? "dump: battery.voltage, at full "
		"charge" : "guess: 27.40 V per 24 V (protocol-facts sec. 7)");
	/* j: minutes = full * (100 / load) ^ 1.5 * charge / 100 */
	const char *rs = peek(m, "battery.runtime");
	double rt;
	if (rs && number(rs, 1, 9999 * 60.0, &rt)) {
		double l = load < 1 ? 1 : load;
		double c = charge < 1 ? 1 : charge;
		/* the middle of the minute NUT shows, so `j` reads it back */
		double full = (floor(rt / 60) + 0.5) / (pow(100.0 / l, 1.5) *
							c / 100.0);
		if (full >= 0.1 && full <= 9999) {
			take(m, "battery.runtime");
			putf(o, "  runtime_full_load: %.4f", full);
			trail(o, "dump: battery.runtime %s s; guess: "
			      "fitted at the dump's load and charge", rs);
			PUTS(o, "  runtime_exponent: 1.5");
			trail(o, "guess: the usual exponent of the model");
		} else {
			set_unused(m, "battery.runtime", "no battery model fits "
				   "it");
		}
	} else if (rs) {
		set_unused(m, "battery.runtime", "not a usable number");
	}
	const char *pk = take(m, "battery.packs");
	const char *bp = take(m, "battery.packs.bad");
	double packs = 0, bad = 0;
	if (pk && number(pk, 0, 255, &packs))
		putf(o, "  packs: %d   # dump: battery.packs\n", (int)packs);
	else if (pk)
		set_unused(m, "battery.packs", "not a pack count (0-255)");
	if (bp && number(bp, 0, 255, &bad) && bad <= packs)
		putf(o, "  bad_packs: %d   # dump: battery.packs.bad\n",
		     (int)bad);
	else if (bp)
		set_unused(m, "battery.packs.bad", "not a count of at most "
			   "battery.packs");
	if (pk && answers(m, '>') && m->fam != UPS_FAM_MATRIX &&
	    (icontains(m->model, "xl") || icontains(m->file_model, "xl"))) {
		PUTS(o, "  packs_editable: true");
		trail(o, "guess: an XL unit takes its pack count "
			"from the host (ULS p.22)");
	}
}

static void write_accessory(struct imp *m)
{
	if (!m->measure)
		return;
	struct out *o = &m->o;
	PUTS(o, "accessory:\n");
	num_line(m, "ambient", "ambient.temperature", -40, 99.99, 24.5, 2,
		 "the dump has no ambient temperature");
	num_line(m, "humidity", "ambient.humidity", 0, 100, 41.2, 1,
		 "the dump has no humidity");
	const char *v = take(m, "ups.firmware.aux");
	if (v && strlen(v) == 3 && printable(v, 3)) {
		PUTS(o, "  firmware: ");
		put_q(o, v);
		PUTS(o, "   # dump: ups.firmware.aux\n");
	} else if (v) {
		set_unused(m, "ups.firmware.aux", "not a 3-character version");
	}
}

/* Variables the importer never maps, and why. */
static const char *unused_reason(const char *name)
{
	if (!strncmp(name, "driver.", 7))
		return "a driver setting, not the unit's";
	if (!strcmp(name, "device.type"))
		return "always \"ups\"";
	if (!strcmp(name, "device.mfr") || !strcmp(name, "ups.mfr"))
		return "always APC: NUT's apcsmart driver sets it";
	if (!strcmp(name, "ups.status"))
		return "the unit's state, not its make: the profile starts on "
		       "line";
	if (!strcmp(name, "ups.test.result"))
		return "a unit starts without a result (X answers NO)";
	if (!strcmp(name, "input.quality"))
		return "the model computes it from the line (9)";
	if (!strcmp(name, "output.current"))
		return "the model computes it from rated_va and the load (/)";
	if (!strncmp(name, "ambient.", 8) || !strcmp(name, "ups.contacts"))
		return "a Measure-UPS value the profile keeps no start value of";
	return "not a variable of NUT's apcsmart driver that the importer maps";
}

static void write_unused(struct imp *m)
{
	struct out *o = &m->o;
	bool header = false;
	for (int i = 0; i < m->dp->n_vars; i++) {
		const struct nutdump_var *v = &m->dp->vars[i];
		if (m->used[i] && !m->why[i])
			continue;
		if (!header) {
			comment(o, "", "Not used from the dump:");
			header = true;
		}
		comment(o, "", "  line %d: %s: %s (%s)", v->line, v->name,
			v->value, m->why[i] ? m->why[i] : unused_reason(v->name));
	}
	for (int i = 0; i < m->dp->n_notes; i++) {
		if (!header) {
			comment(o, "", "Not used from the dump:");
			header = true;
		}
		comment(o, "", "  line %d: %s (%s)", m->dp->notes[i].line,
			m->dp->notes[i].text, m->dp->notes[i].why);
	}
	if (m->dp->notes_dropped)
		comment(o, "", "  and %d more lines the importer could not use",
			m->dp->notes_dropped);
	for (int i = 0; i < m->dp->n_strings; i++)
		comment(o, "", "  #RW %s: STRING (the unit's direct-entry "
			"text, c or x)", m->dp->strings[i]);
	for (int i = 0; i < m->dp->n_cmds; i++)
		comment(o, "", "  #CMD %s (an instant command NUT offered)",
			m->dp->cmds[i]);
}

enum ups_rc nutdump_profile(const struct nutdump *dump, const char *file_name,
			    struct ups_buf *yaml)
{
	if (!dump || !yaml)
		return UPS_EARG;
	static const struct imp zero;
	struct imp *m = malloc(sizeof *m);
	if (!m)
		return UPS_ENOMEM;
	*m = zero;
	m->dp = dump;
	m->o.b = yaml;
	const char *dv = peek(m, "driver.version");
	m->ver = parse_version(dv);
	if (m->ver && printable(dv, 15))
		snprintf(m->ver_text, sizeof m->ver_text, "%s", dv);
	else if (m->ver)
		snprintf(m->ver_text, sizeof m->ver_text, "%d.%d", m->ver / 100,
			 m->ver % 100);
	const char *dn = peek(m, "driver.name");
	if (dn && printable(dn, sizeof m->driver - 1))
		snprintf(m->driver, sizeof m->driver, "%s", dn);
	parse_file_name(m, file_name);

	decide_family(m);
	decide_locale(m);
	decide_commands(m);
	write_instcmds(m);
	write_header(m);
	write_identity(m);
	write_voltage(m);
	write_commands(m);
	if (m->fam == UPS_FAM_VS) {
		PUTS(&m->o, "behaviour: { unsupported: silent }");
		trail(&m->o, "guess: as the Smart-UPS v/s 420 capture (ESP), "
		      "no reply to a command it lacks");
	}
	write_eeprom(m);
	double load = 25;
	write_electrical(m, &load);
	write_battery(m, load);
	write_accessory(m);
	write_unused(m);
	enum ups_rc rc = m->o.rc;
	if (rc == UPS_OK)
		rc = ups_buf_append(yaml, "", 1);
	if (rc == UPS_OK)
		yaml->len--; /* NUL-terminated, not counted */
	free(m);
	return rc;
}
