"""Every spec action on every shipped profile (ups-link-spec.txt, 72 actions).

For each profile the simulator ships, each of the 72 UPS-Link actions must
get the reply that the spec and the profile say: fixed-width value formats,
identity strings, `NA` (or silence on a `behaviour.unsupported: silent`
profile) for what the profile does not answer, `OK`/`*` for the shutdown
family, the Edit (`-`) cycling order, direct entry, two-press timing.

Which bytes a profile answers comes from the binary's own table
(`upssim --list-commands --profile NAME`); the expected *values* come from
the profile YAML (profiles/NAME.yaml, following `inherit:`) and the spec,
never from the simulator's answers.  A leading run of asynchronous alert
characters that the profile sends (`link.alerts`) is allowed before any
reply.

Every profile runs as several independent simulator processes at once
(one per destructive scenario), so the whole file takes about as long as
its slowest scenario (the 8 s self-test), about 20 s.

Readings that are not fixed strings are derived from the profile figures:
O = L (no boost/trim at the shipped line voltages), M = N = L right after
power-on unless electrical.line_max / line_min say otherwise, G =
electrical.transfer_cause, B = battery.voltage or float_voltage (ddd.d for
packs of 100 V and more), j = floor(runtime_full_load *
(100/load)^runtime_exponent) (the formula the profiles' comments give), `\`
= electrical.load (one load figure for both P and `\`), and `/` x O = the
apparent power `\` gives.  Settings start at each list's `current` value
and `z` restores its `default`; `a` is link.commands verbatim when the
profile gives it, and ^Z follows dump_order.
Checks where a shipped profile contradicts the spec are listed in KNOWN and
reported, not failed; the project lead decides them.

ACTIONS_VERBOSE=1 prints every check; ACTIONS_PROFILES=a,b limits the run.
"""
import os
import re
import select
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import yaml

sys.dont_write_bytecode = True  # leave no __pycache__ in the source tree
from upssim_proc import SRC, Sim, run  # noqa: E402

# --------------------------------------------------------------------------
# The 72 actions of ups-link-spec.txt, in spec order: (id, command bytes).
# `>` carries two actions (inquiry and pack configuration).

ACTIONS = [
    # §3.1 UPS control
    ("set_smart_mode", b"Y"),
    ("test_lights_beeper", b"A"),
    ("turn_off_after_delay", b"K"),
    ("shutdown_on_battery", b"S"),
    ("simulate_power_failure", b"U"),
    ("battery_test", b"W"),
    ("turn_off_immediate", b"Z"),
    ("shutdown_delayed_wake", b"@"),
    ("abort_shutdown", b"\x7f"),
    ("run_time_calibration", b"D"),
    ("ups_to_bypass_toggle", b"^"),
    ("turn_ups_on", b"\x0e"),
    ("return_to_simple_mode", b"R"),
    # §3.2 status inquiry
    ("battery_test_result", b"X"),
    ("num_battery_packs", b">"),
    ("num_bad_battery_packs", b"<"),
    ("transfer_cause", b"G"),
    ("firmware_version", b"V"),
    ("nominal_battery_voltage", b"g"),
    ("battery_capacity", b"f"),
    ("acceptable_line_quality", b"9"),
    ("ups_status_register", b"Q"),
    ("state_register", b"~"),
    ("trip1_register", b"'"),
    ("trip_register", b"8"),
    ("dip_switch_position", b"7"),
    ("ups_serial_number", b"n"),
    ("ups_manufacture_date", b"m"),
    ("run_time_remaining", b"j"),
    ("copyright", b"y"),
    ("all_commands_available", b"a"),
    ("version_in_decimal", b"b"),
    ("ups_model_name", b"\x01"),
    # §3.3 power inquiry
    ("load_current", b"/"),
    ("apparent_load_power", b"\\"),
    ("battery_voltage", b"B"),
    ("ups_internal_temperature", b"C"),
    ("operating_frequency", b"F"),
    ("line_voltage", b"L"),
    ("max_line_voltage", b"M"),
    ("min_line_voltage", b"N"),
    ("output_voltage", b"O"),
    ("load_power", b"P"),
    # §3.4 customizing
    ("read_all_eeprom", b"\x1a"),
    ("reset_eeprom", b"z"),
    ("edit_next", b"-"),
    ("output_voltage_selection", b"\x16"),
    ("front_panel_language", b"\x0c"),
    ("auto_battery_test_setting", b"E"),
    ("ups_id", b"c"),
    ("battery_replacement_date", b"x"),
    ("upper_transfer_voltage", b"u"),
    ("lower_transfer_voltage", b"l"),
    ("min_battery_capacity_restart", b"e"),
    ("output_voltage_setting", b"o"),
    ("utility_failure_sensitivity", b"s"),
    ("low_battery_warning", b"q"),
    ("audible_alarm", b"k"),
    ("shutdown_delay", b"p"),
    ("turn_on_delay", b"r"),
    ("run_time_conservation", b"w"),
    ("battery_pack_config", b">"),
    # §4.1-§4.2 Measure-UPS
    ("ambient_temperature", b"t"),
    ("humidity", b"h"),
    ("measureups_firmware", b"v"),
    ("dip_external_contact_status", b"i"),
    ("alarm_status", b"J"),
    ("upper_temp_alarm_limit", b"["),
    ("lower_temp_alarm_limit", b"]"),
    ("upper_rh_alarm_limit", b"{"),
    ("lower_rh_alarm_limit", b"}"),
    ("alarm_enable", b"I"),
]
ACTION_IDS = [a for a, _ in ACTIONS]
BYTE_OF = dict(ACTIONS)
assert len(ACTIONS) == 72 and len(set(ACTION_IDS)) == 72

# Settings answered with their current EEPROM value (ULS p.16-22, p.29-30).
SETTINGS = b"uleosqkprEw\x16\x0c[]{}"
# ^Z lists these, in this order, when the profile has a list (ULS p.15).
DUMP_ORDER = b"uleosqpkrEw"
# Fixed-width numeric formats (ULS p.2: leading zeros not suppressed).
F_DD_DD = rb"\d\d\.\d\d"        # B F t /  (and [ ])
F_DDD_D = rb"\d\d\d\.\d"        # C L M N O P f h  (and { })
F_DDD_DD = rb"\d\d\d\.\d\d"     # backslash
F_HEX2 = rb"[0-9A-F]{2}"        # Q ~ ' 8 7 i J I
F_DDD = rb"\d\d\d"              # g > <
F_RUNTIME = rb"(\d{4}|>>>>):"   # j
F_DATE = rb"\d{1,4}/\d{1,4}/\d{1,4}"  # m x (a unit's own form: 11/6/03)

CTRL_N, DEL = b"\x0e", b"\x7f"
GAP = 1.6        # between two presses: the spec says > 1.5 s
QUIET = 0.25     # how long "no reply" is watched before the sentinel Y

# --------------------------------------------------------------------------
# Profiles: YAML (with inherit) plus the spec/loader defaults for absent keys

DEFAULTS = {
    "identity": {"copyright": "(C) APCC", "ups_id": "UPS_IDEN",
                 "firmware_v": "", "firmware_b": ""},
    "link": {"level": "3", "alerts": "!$%+?=#|", "extension": "", "commands": ""},
    "voltage": {"matrix_select": "A"},
    "behaviour": {"unsupported": "NA", "shutdown_reply": "OK",
                  "dump_double_hash": False, "serial_nuls": False,
                  "s_on_line": "NA", "dip": 0, "dip_edit_mask": 0x0F,
                  "low_battery_on_line": False, "entry_pad": "none"},
    "timing": {"two_press_gap": 1200, "selftest": 8000,
               "simulated_failure": 6000, "eeprom_alert": 5000,
               "bypass": 1000},
    "electrical": {"boost_below": 0, "trim_above": 0, "double_conversion": False,
                   "boost_gain": 1.12, "trim_gain": 0.88,
                   "line_max": 0, "line_min": 0, "transfer_cause": "O"},
    "battery": {"charge": 100, "packs": 0, "bad_packs": 0, "voltage": 0,
                "packs_editable": False},
    "accessory": {"ambient": 24.5, "humidity": 41.2, "contacts": 0,
                  "firmware": "4Kx", "alarm_enable": 0xFF},
    "commands": {"extras": []},
}


def merge(base, top):
    """Child keys override the parent's; mappings merge; `~` drops a key."""
    out = dict(base)
    for k, v in top.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def load_yaml(name, depth=0):
    path = os.path.join(SRC, "profiles", name + ".yaml")
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if "inherit" in doc:
        assert depth < 4, "inherit too deep at %s" % name
        parent = load_yaml(doc.pop("inherit"), depth + 1)
        # an eeprom entry replaces the parent's entry for that command
        eeprom = dict(parent.get("eeprom") or {})
        for k, v in (doc.pop("eeprom", None) or {}).items():
            if v is None:
                eeprom.pop(k, None)
            else:
                eeprom[k] = v
        doc = merge(parent, doc)
        doc["eeprom"] = eeprom
    return doc


def lat(s):
    """A YAML string as the bytes the UPS sends (one byte per character)."""
    return str(s).encode("latin-1")


class Profile:
    """What the spec plus the profile YAML say the unit answers."""

    def __init__(self, name, table):
        self.name = name
        y = merge({}, DEFAULTS)
        y = merge(y, load_yaml(name))
        self.y = y
        self.family = y["family"]
        self.table = table                    # byte -> yes | NA | silent
        ident, beh, el, bat = y["identity"], y["behaviour"], y["electrical"], y["battery"]
        self.alerts = lat(y["link"]["alerts"])
        if y.get("measure_ups") and b"&" not in self.alerts:
            self.alerts += b"&"  # the accessory's own alert (ULS p.25)
        self.silent = beh["unsupported"] == "silent"
        self.sd_reply = lat(beh["shutdown_reply"])
        self.s_on_line = lat(beh["s_on_line"])
        self.double_hash = bool(beh["dump_double_hash"])
        self.dip = int(beh["dip"])
        self.dip_mask = int(beh["dip_edit_mask"])
        self.timing = y["timing"]
        self.eeprom = {}
        for k, v in (y.get("eeprom") or {}).items():
            if v is None:
                continue
            key = lat(k)
            if key in (b"^L", b"^V"):
                key = bytes([key[1] - 0x40])
            vals = [lat(x) for x in v["values"]]
            d = lat(v["default"]) if "default" in v else vals[0]
            # the value at start: `current`, else the factory default
            c = lat(v["current"]) if "current" in v else d
            self.eeprom[key] = {"locale": lat(v["locale"]), "values": vals,
                                "def": vals.index(d), "cur": vals.index(c)}
        if y.get("measure_ups"):
            # the Measure-UPS brings its own alarm-limit lists (ULS p.29-30)
            for key, vals in ((b"[", [b"32.13", b"45.90", b"54.06", b"23.97"]),
                              (b"]", [b"04.08", b"09.94", b"14.02", b"18.10"]),
                              (b"{", [b"070.0", b"080.0", b"084.5", b"090.1"]),
                              (b"}", [b"010.0", b"020.1", b"030.2", b"040.3"])):
                self.eeprom.setdefault(key, {"locale": b"4", "values": vals, "def": 0,
                                             "cur": 0})
        self.dump_extra = [lat(x) for x in (y.get("dump_extra") or [])]
        self.dump_order = []
        for it in (y.get("dump_order") or []):
            it = lat(it)
            if len(it) == 3 and it[:1] == b"^":
                it = bytes([it[1] & 0x1F]) + it[2:]
            self.dump_order.append(it)
        self.extras = {lat(e["byte"]): lat(e["reply"])
                       for e in (y["commands"].get("extras") or [])}
        self.packs_editable = bool(bat["packs_editable"])

        # -- readings on line at start --
        line = float(el["line_voltage"])
        self.line_v = line
        boost = el["boost_below"] and line < el["boost_below"]
        trim = el["trim_above"] and line > el["trim_above"]
        out_v = line * (el["boost_gain"] if boost else el["trim_gain"] if trim else 1.0)
        if el.get("double_conversion"):
            # an on-line unit holds its output at the `o` setting
            o = self.eeprom.get(b"o")
            out_v = float(o["values"][o["cur"]]) if o else float(y["voltage"]["nominal"])
        load = float(el["load"])
        charge = float(bat["charge"])
        q = 0x08 | (0x04 if boost else 0)
        if trim and self.family not in ("smart-ups-2g", "smart-ups-vs", "back-ups-pro"):
            q |= 0x02
        runtime = (float(bat["runtime_full_load"]) *
                   (100.0 / max(load, 1.0)) ** float(bat["runtime_exponent"]) *
                   charge / 100.0)
        # low battery on line (behaviour.low_battery_on_line): runtime <= q
        if beh["low_battery_on_line"] and runtime <= self.setting_num(b"q", 2.0):
            q |= 0x40
        nominal = float(y["voltage"]["nominal"])
        lo = self.setting_num(b"l", nominal * 0.85)
        hi = self.setting_num(b"u", nominal * 1.12)
        f0, f = float(y["voltage"]["frequency"]), float(el["line_frequency"])
        in_window = lo <= line <= hi and f0 * 0.95 <= f <= f0 * 1.05
        acc = y["accessory"]
        amb, hum = float(acc["ambient"]), float(acc["humidity"])
        jreg = 0
        if amb > self.setting_num(b"[", 1e9):
            jreg |= 0x80
        if amb < self.setting_num(b"]", -1e9):
            jreg |= 0x40
        if hum > self.setting_num(b"{", 1e9):
            jreg |= 0x20
        if hum < self.setting_num(b"}", -1e9):
            jreg |= 0x10
        contacts = int(acc["contacts"])
        jreg |= ((contacts >> 4) ^ contacts) & 0x0F
        self.rated_va, self.rated_w, self.load = float(el["rated_va"]), float(el["rated_w"]), load

        serial = lat(ident["serial"]) + (b"\0\0" if beh["serial_nuls"] else b"")
        # B: dd.dd (ULS p.13), ddd.d for packs of 100 V and more
        big_pack = float(bat["nominal_voltage"]) >= 100
        batt_v = float(bat["voltage"]) or float(bat["float_voltage"])
        line_max = float(el["line_max"]) or line
        line_min = float(el["line_min"]) or line
        # byte -> (format regex or None, exact bytes or None)
        self.queries = {
            b"Q": (F_HEX2, b"%02X" % q),
            b"~": (F_HEX2, b"00"),
            b"'": (F_HEX2, b"00"),
            b"8": (F_HEX2, b"00"),
            b"7": (F_HEX2, b"%02X" % self.dip),
            b"9": (rb"FF|00", b"FF" if in_window else b"00"),
            b"G": (rb"[RHLTOS]", lat(el["transfer_cause"])),
            b"X": (rb"OK|BT|NG|NO", b"NO"),
            b"V": (rb"[0-9A-Z]{3}", lat(ident["firmware_v"])),
            b"b": (rb"[0-9A-Za-z]+\.[0-9A-Za-z]+\.[0-9A-Za-z]+", lat(ident["firmware_b"])),
            b"\x01": (rb"[ -~]{1,31}", lat(ident["model"])),
            b"y": (None, lat(ident["copyright"])),
            b"n": (rb"[ -~]{8,}\0*", serial),       # NUL padding as sent
            b"m": (F_DATE, lat(ident["manufactured"])),
            b"j": (F_RUNTIME, self.runtime_reply(runtime)),
            b"g": (F_DDD, b"%03d" % round(float(bat["nominal_voltage"]))),
            b"f": (F_DDD_D, b"%05.1f" % charge),
            b"B": (F_DDD_D, b"%05.1f" % batt_v) if big_pack else
                  (F_DD_DD, b"%05.2f" % batt_v),
            b"C": (F_DDD_D, b"%05.1f" % float(el["temperature"])),
            b"F": (F_DD_DD, b"%05.2f" % f),
            b"L": (F_DDD_D, b"%05.1f" % line),
            b"M": (F_DDD_D, b"%05.1f" % line_max),   # since the last read
            b"N": (F_DDD_D, b"%05.1f" % line_min),
            b"O": (F_DDD_D, b"%05.1f" % out_v),
            b"P": (F_DDD_D, b"%05.1f" % load),
            b"/": (F_DD_DD, None),                # cross-checked below
            b"\\": (F_DDD_DD, None),
            b">": (F_DDD, b"%03d" % int(bat["packs"])),
            b"<": (F_DDD, b"%03d" % int(bat["bad_packs"])),
            b"t": (F_DD_DD, b"%05.2f" % amb),
            b"h": (F_DDD_D, b"%05.1f" % hum),
            b"v": (rb"4[A-Z]x", lat(acc["firmware"])),
            b"i": (F_HEX2, b"%02X" % contacts),
            b"J": (F_HEX2, b"%02X" % jreg),
            b"a": (rb"[^.]*\.[^.]*\.[^.]+(\.[^.]+)?", None),   # exact below
            b"\x1a": (rb"#.*", None),                        # exact below
        }
        self.alarm_enable = b"%02X" % int(acc["alarm_enable"])
        # as written; padded to the 8 of ULS p.17 only with entry_pad: spaces
        self.ups_id = lat(ident["ups_id"])
        if beh["entry_pad"] == "spaces":
            self.ups_id = self.ups_id.ljust(8)
        self.batt_date = lat(ident["battery_date"])

    @staticmethod
    def runtime_reply(minutes):
        m = int(minutes // 1)
        if abs(minutes - round(minutes)) < 1e-6:   # floor is ambiguous here
            return None
        return b"%04d:" % min(max(m, 0), 9999)

    def setting_num(self, b, dflt):
        e = self.eeprom.get(b)
        if not e or not self.answers(b):
            return dflt
        try:
            return float(e["values"][e["cur"]])
        except ValueError:
            return dflt

    def answers(self, b):
        return self.table.get(b) == "yes"

    def status(self, b):
        """The binary's table: yes, NA or silent."""
        return self.table.get(b, "silent" if self.silent else "NA")

    def default(self, b):
        """The factory value (what `z` restores), NO without a list."""
        e = self.eeprom.get(b)
        return e["values"][e["def"]] if e else b"NO"

    def current(self, b):
        """The value at start (eeprom `current`), NO without a list."""
        e = self.eeprom.get(b)
        return e["values"][e["cur"]] if e else b"NO"

    def caps(self):
        """`a`: level . alerts . commands [. extension]; the commands are
        link.commands verbatim, else the supported bytes ascending."""
        # table commands only: undocumented extras are answered, not listed
        cmds = sorted(b for b, st in self.table.items()
                      if st == "yes" and b not in self.extras)
        if self.y["link"]["commands"]:
            cmds = [lat(self.y["link"]["commands"])]
        s = lat(self.y["link"]["level"]) + b"." + self.alerts + b"." + \
            b"".join(cmds)
        ext = self.y["link"].get("extension") or ""
        return s + (b"." + lat(ext) if ext else b"")

    def dump(self):
        """^Z: `#`, then per item cmd locale count width values (ULS p.15)."""
        hh = b"##" if self.double_hash else b""

        def own(c):
            e = self.eeprom.get(c)
            if not e or not self.answers(c) or c in self.extras:
                return None
            w = len(e["values"][0])
            return c + e["locale"] + b"%d%d" % (len(e["values"]), w) + \
                b"".join(e["values"])
        s = b"#"
        if self.dump_order:   # the unit's order, each item named once
            for name in self.dump_order:
                c, loc = name[:1], name[1:]
                item = own(c)
                if item is None or item[1:2] != loc:
                    item = next(x for x in self.dump_extra if x[:2] == name)
                s += hh + item
            return s
        for c in DUMP_ORDER:
            c = bytes([c])
            item = own(c)
            if item is not None:
                s += hh + item
            s += b"".join(hh + x for x in self.dump_extra if x[:1] == c)
        return s


def byte_of_cell(cell):
    cell = cell.strip().strip("`")
    if cell == "DEL":
        return b"\x7f"
    if len(cell) == 2 and cell[0] == "^":
        return bytes([ord(cell[1]) - 0x40])
    return lat(cell)


def command_table(name):
    """The binary's table: {byte: yes|NA|silent}, {action id: byte}, count."""
    rc, out, err = run("--list-commands", "--profile", name)
    assert rc == 0, "--list-commands --profile %s: %s" % (name, err)
    support, ids, claimed = {}, {}, None
    m = re.search(r"(\d+) spec actions", out)
    if m:
        claimed = int(m.group(1))
    for line in out.splitlines():
        if not line.startswith("| `"):
            continue
        cells = line.split(" | ")
        b = byte_of_cell(cells[0][2:])
        support[b] = cells[-2].strip()
        for a in cells[1].split(","):
            a = a.strip()
            if a and not a.startswith("("):
                ids[a] = b
    return support, ids, claimed


# --------------------------------------------------------------------------
# Talking to one simulator


# Checks where the spec and a shipped profile disagree, left for the project
# lead to decide (profile data or spec reading); they are reported as KNOWN
# and do not fail the run.  (profile, key) -> why.
KNOWN = {}
VERBOSE = os.environ.get("ACTIONS_VERBOSE") == "1"


class Result:
    def __init__(self, profile, scenario):
        self.profile, self.scenario = profile, scenario
        self.ok = 0
        self.fails = []
        self.known = []
        self.covered = set()
        self.lock = threading.Lock()

    def check(self, cond, what, action=None, known=None):
        with self.lock:
            if action:
                self.covered.add(action)
            why = KNOWN.get((self.profile, known)) if known else None
            if VERBOSE:
                print("%s %s [%s] %s" % ("ok  " if cond else "FAIL", self.profile,
                                         self.scenario, what), flush=True)
            if cond:
                self.ok += 1
                if why:
                    self.known.append("%s [%s] now passes, drop it from KNOWN: %s"
                                      % (self.profile, self.scenario, what))
            elif why:
                self.known.append("%s [%s] %s -- %s" % (self.profile, self.scenario, what, why))
            else:
                self.fails.append("%s [%s] %s" % (self.profile, self.scenario, what))
        return cond


def show(b):
    return repr(b) if b is None else repr(bytes(b))


class Link:
    """One simulator on a pty, with alert-aware reads and tagged checks."""

    def __init__(self, prof, res):
        self.p, self.r = prof, res
        self.sim = Sim("--profile", prof.name)
        self.sim.open()
        self.buf = b""
        self.alert_re = b"[" + re.escape(prof.alerts) + b"]*?" if prof.alerts else b""

    def close(self):
        self.sim.stop()

    # -- raw I/O --
    def send(self, data):
        self.sim.send(data)

    def line(self, timeout=3.0):
        """Next reply line without CR LF (alerts before it included), or
        None if no CR LF came within timeout."""
        deadline = time.monotonic() + timeout
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.buf = b""
                return None
            r, _, _ = select.select([self.sim.fd], [], [], left)
            if r:
                self.buf += os.read(self.sim.fd, 4096)
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def watch(self, secs):
        """Everything that arrives within secs (plus anything buffered)."""
        got = self.buf + self.sim.read_for(secs)
        self.buf = b""
        return got

    def cmd(self, data, timeout=3.0):
        self.send(data)
        return self.line(timeout)

    # -- matching --
    def strip(self, got):
        """The reply with a leading run of the profile's alert bytes removed
        (shortest removal that leaves the rest; None stays None)."""
        if got is None:
            return None
        i = 0
        while i < len(got) and got[i] in self.p.alerts:
            i += 1
        return got[i:]

    def matches(self, got, want):
        if got is None:
            return False
        if not got.endswith(want):
            return False
        pre = got[:len(got) - len(want)]
        return all(c in self.p.alerts for c in pre)

    def fmt_ok(self, got, pattern):
        return got is not None and re.fullmatch(self.alert_re + b"(?:" + pattern + b")",
                                                got, re.S) is not None

    def only_alerts(self, got):
        return all(c in self.p.alerts for c in got)

    # -- checks --
    def expect(self, data, want, what, action=None, timeout=3.0):
        got = self.cmd(data, timeout)
        self.r.check(self.matches(got, want), "%s: sent %s, got %s, want %s"
                     % (what, show(data), show(got), show(want)), action)
        return got

    def expect_silence(self, data, what, action=None, secs=QUIET, sentinel=True):
        """No reply at all to data: nothing but alerts within secs, and the
        next command's reply is the first line to come back."""
        self.send(data)
        got = self.watch(secs)
        ok = self.only_alerts(got)
        self.r.check(ok, "%s: sent %s, want no reply, got %s" % (what, show(data), show(got)),
                     action)
        self.buf = got if ok else b""
        if sentinel:
            s = self.cmd(b"Y")
            self.r.check(self.matches(s, b"SM"), "%s: after %s the next reply (Y) is %s, want "
                         "b'SM'" % (what, show(data), show(s)), action)

    def expect_unsupported(self, data, action, what=None):
        what = what or "%s unsupported" % action
        if self.p.silent:
            self.expect_silence(data, what + " (silent profile)", action)
        else:
            self.expect(data, b"NA", what, action)

    def status(self, b):
        return self.p.status(b)

    def supported(self, action):
        """True if the profile answers action's byte; else checks NA/silence."""
        b = BYTE_OF[action]
        st = self.status(b)
        if st == "yes":
            return True
        self.r.check(st == ("silent" if self.p.silent else "NA"),
                     "%s: table says %r for an unanswered byte, profile says "
                     "unsupported: %s" % (action, st, "silent" if self.p.silent else "NA"),
                     action)
        self.expect_unsupported(b, action)
        return False

    def smart(self):
        self.watch(0.2)
        self.expect(b"Y", b"SM", "Y enters smart mode", "set_smart_mode")

    def wait_q(self, want, secs, what, action=None):
        deadline = time.monotonic() + secs
        got = None
        while time.monotonic() < deadline:
            got = self.strip(self.cmd(b"Q"))
            if got == want:
                break
            self.watch(0.2)
        self.r.check(got == want, "%s: Q is %s, want %s" % (what, show(got), show(want)),
                     action)


# --------------------------------------------------------------------------
# Scenarios: each gets its own simulator


def sc_queries(l):
    p = l.p
    # dumb mode: before Y nothing is answered
    l.watch(0.3)
    l.send(b"QfA\x01")
    got = l.watch(0.4)
    l.r.check(l.only_alerts(got), "before Y nothing is answered: got %s" % show(got),
              "set_smart_mode")
    l.smart()
    l.expect(b"Y", b"SM", "Y again in smart mode", "set_smart_mode")

    # every action the profile does not answer: NA, or nothing at all
    for action, b in ACTIONS:
        if p.status(b) != "yes":
            l.supported(action)

    for action, b in ACTIONS:
        if b not in p.queries or action == "battery_pack_config":
            continue
        if p.status(b) != "yes" or b in p.extras:
            continue        # extras: their fixed reply is checked below
        pattern, want = p.queries[b]
        got = l.cmd(b)
        if pattern is not None:
            l.r.check(l.fmt_ok(got, pattern), "%s (%s) format: got %s, want /%s/"
                      % (action, show(b), show(got), pattern.decode()), action)
        if b == b"a":
            want = p.caps()
        elif b == b"\x1a":
            want = p.dump()
        if want is not None:
            l.r.check(l.matches(got, want), "%s (%s): got %s, want %s"
                      % (action, show(b), show(got), show(want)), action)
        elif b == b"j":
            l.r.check(got is not None, "j answers", action)

    # `/` and `\` are derived: current x output voltage = apparent power
    if p.answers(b"/") and p.answers(b"\\") and p.answers(b"O"):
        try:
            amps = float(l.strip(l.cmd(b"/")))
            pct = float(l.strip(l.cmd(b"\\")))
            volts = float(l.strip(l.cmd(b"O")))
            va = pct / 100.0 * p.rated_va
            l.r.check(abs(amps * volts - va) <= max(0.01 * va, volts * 0.01),
                      "/ x O = %.1f VA but \\ says %.1f VA" % (amps * volts, va), "load_current")
            l.r.check(va + 0.5 >= p.load / 100.0 * p.rated_w,
                      "\\ %.1f VA below the real power %.1f W (P)"
                      % (va, p.load / 100.0 * p.rated_w), "apparent_load_power")
            l.r.check(abs(pct - p.load) < 0.005,
                      "\\ is %.2f %%, profile load is %.2f %% (assumed the same figure)"
                      % (pct, p.load), "apparent_load_power")
        except (TypeError, ValueError) as e:
            l.r.check(False, "/ \\ O not numeric: %s" % e, "load_current")

    # settings answer their value at start (`current`, else the factory
    # value), or NO without a list
    for action, b in ACTIONS:
        if b not in SETTINGS or p.status(b) != "yes" or b in p.extras:
            continue
        l.expect(b, p.current(b), "%s (%s) value at start" % (action, show(b)), action)

    # ^Z once more after everything (it does not change)
    if p.answers(b"\x1a"):
        l.expect(b"\x1a", p.dump(), "^Z read twice", "read_all_eeprom")

    # A
    if p.answers(b"A"):
        l.expect(b"A", b"OK", "A", "test_lights_beeper")

    # - after a non-setting
    if p.answers(b"-"):
        l.expect(b"Q", l.p.queries[b"Q"][1], "Q before -", "ups_status_register")
        l.expect(b"-", b"NA", "- after Q (not a setting)", "edit_next")
        l.expect(b"9", p.queries[b"9"][1], "9 before -", "acceptable_line_quality")
        l.expect(b"-", b"NA", "- after 9 (not a setting)", "edit_next")

    # undocumented fixed replies the profile lists
    for b, want in sorted(p.extras.items()):
        l.expect(b, want, "extra %s" % show(b))

    # R leaves smart mode; only Y is heard until then
    if p.answers(b"R"):
        l.expect(b"R", b"BYE", "R", "return_to_simple_mode")
        l.send(b"Qf")
        got = l.watch(0.4)
        l.r.check(l.only_alerts(got), "after R nothing but Y is answered: got %s" % show(got),
                  "return_to_simple_mode")
        l.expect(b"Y", b"SM", "Y after R", "return_to_simple_mode")
        l.expect(b"Q", p.queries[b"Q"][1], "smart again after R + Y", "return_to_simple_mode")
    else:
        l.expect(b"Q", p.queries[b"Q"][1], "still smart after an unanswered R",
                 "return_to_simple_mode")


def sc_edit(l):
    """`-` cycling of every list, > +/-, c/x/I entry, z, the `|` alert."""
    p = l.p
    l.smart()
    edit_ok = l.supported("edit_next")
    for action, b in ACTIONS:
        if b not in SETTINGS or p.status(b) != "yes":
            continue        # unsupported ones are checked in sc_queries
        e = p.eeprom.get(b)
        if not edit_ok:
            continue
        if not e:
            l.expect(b, b"NO", "%s without a list" % action, action)
            l.expect(b"-", b"NO", "- after %s (no list)" % action, "edit_next")
            continue
        vals, i = e["values"], e["cur"]
        refuse = len(vals) < 2 or (p.dip & p.dip_mask)
        l.expect(b, vals[i], "%s before editing" % action, action)
        for step in range(len(vals)):
            if refuse:
                l.expect(b"-", b"NO", "- after %s (%s)" % (action, "one value" if len(vals) < 2
                         else "DIP switch off"), "edit_next")
            else:
                l.expect(b"-", b"OK", "- after %s (step %d)" % (action, step + 1), "edit_next")
                i = (i + 1) % len(vals)
            l.expect(b, vals[i], "%s after %d x -" % (action, step + 1), action)
        l.r.check(i == e["cur"] or refuse, "%s wrapped back to its value at start" % action,
                  action)

    # battery packs: > then + / -
    if p.status(b">") == "yes":
        n = int(p.queries[b">"][1])
        l.expect(b">", b"%03d" % n, "> before editing", "num_battery_packs")
        if p.packs_editable:
            l.expect(b"+", b"%03d" % (n + 1), "> + increments the pack count",
                     "battery_pack_config")
            l.expect(b">", b"%03d" % (n + 1), "> after +", "battery_pack_config")
            l.expect(b"-", b"%03d" % n, "> - decrements the pack count", "battery_pack_config")
            l.expect(b">", b"%03d" % n, "> after -", "battery_pack_config")
        else:
            l.expect(b"+", b"NA", "> + on a unit that senses its packs", "battery_pack_config")
            l.expect(b">", b"%03d" % n, "> again", "num_battery_packs")
            l.expect(b"-", b"NA", "> - on a unit that senses its packs", "battery_pack_config")
            l.expect(b">", b"%03d" % n, "> count unchanged", "battery_pack_config")
    else:
        l.expect_unsupported(b">", "battery_pack_config", "> (pack configuration) unsupported")
        if p.status(b"+") == "yes":
            l.expect(b"+", b"NA", "+ after an unanswered >", "battery_pack_config")
        else:
            l.expect_unsupported(b"+", "battery_pack_config", "+ unsupported")

    # direct entry after - : c (8 chars), x (8 chars)
    new_id, new_date = b"TEST ID1", b"06/30/24"
    entered = {}
    for action, b, old, new in (("ups_id", b"c", p.ups_id, new_id),
                                ("battery_replacement_date", b"x", p.batt_date, new_date)):
        if p.status(b) != "yes":
            continue
        l.expect(b, old, "%s factory value" % action, action)
        if not edit_ok:
            continue
        l.expect_silence(b"-", "- after %s waits for the text" % action, action,
                         secs=0.3, sentinel=False)
        l.send(new[:7])
        got = l.watch(0.3)
        l.r.check(l.only_alerts(got), "%s: no reply before the 8th character: %s"
                  % (action, show(got)), action)
        l.buf = got
        l.expect(new[7:], b"OK", "%s: 8th character of the entry" % action, action)
        l.expect(b, new, "%s after entry" % action, action)
        entered[b] = new
    t_change = time.monotonic()

    # I: - then two hex digits (invalid hex ignored)
    if p.status(b"I") == "yes":
        l.expect(b"I", p.alarm_enable, "I factory mask", "alarm_enable")
        l.expect_silence(b"-", "- after I waits for two hex digits", "alarm_enable",
                         secs=0.3, sentinel=False)
        l.expect_silence(b"G", "I entry: invalid hex ignored", "alarm_enable", secs=0.3,
                         sentinel=False)
        l.expect_silence(b"3", "I entry: first digit", "alarm_enable", secs=0.3,
                         sentinel=False)
        l.expect(b"C", b"OK", "I entry: second digit", "alarm_enable")
        l.expect(b"I", b"3C", "I after entry", "alarm_enable")
        t_change = time.monotonic()

    # z: factory values back, except c and x
    if l.supported("reset_eeprom"):
        changed = []
        for b in b"upsqkrE[":
            b = bytes([b])
            e = p.eeprom.get(b)
            if edit_ok and e and p.answers(b) and len(e["values"]) > 1 and not (p.dip & p.dip_mask):
                l.cmd(b)
                l.expect(b"-", b"OK", "- after %s before z" % show(b), "edit_next")
                changed.append(b)
        l.expect(b"z", b"CLEAR", "z", "reset_eeprom")
        t_change = time.monotonic()
        for b in changed:
            l.expect(b, p.default(b), "%s back to its factory value after z" % show(b),
                     "reset_eeprom")
        for b, new in entered.items():
            l.expect(b, new, "%s kept by z (ULS p.16)" % show(b), "reset_eeprom")
        if p.status(b"I") == "yes":
            l.expect(b"I", p.alarm_enable, "I back to its factory mask after z", "reset_eeprom")

    # `|` comes timing.eeprom_alert ms after the last EEPROM change
    if entered or p.status(b"z") == "yes":
        delay = p.timing["eeprom_alert"] / 1000.0
        early = l.watch(max(0.0, t_change + delay - 0.7 - time.monotonic()))
        l.r.check(early == b"", "nothing before the EEPROM alert delay of %.1f s: got %s"
                  % (delay, show(early)), "edit_next")
        got = l.watch(max(0.0, t_change + delay + 1.5 - time.monotonic()))
        want = b"|" if b"|" in p.alerts else b""
        l.r.check(got == want, "EEPROM change alert %.1f s after the last change: got %s, "
                  "want %s (link.alerts %s)" % (delay, show(got), show(want), show(p.alerts)),
                  "edit_next")
        if p.family in ("smart-ups-3g", "matrix-ups") and want != b"|":
            l.r.check(got == b"|", "ULS p.25: `|` after an EEPROM change on a %s: got %s"
                      % (p.family, show(got)), "edit_next", known="spec-eeprom-alert")


def sc_k(l):
    l.smart()
    sd = l.p.sd_reply
    if l.supported("turn_off_after_delay"):
        # any other command between the presses invalidates the pair (spec)
        l.expect_silence(b"K", "first K is silent", "turn_off_after_delay", secs=0.3,
                         sentinel=False)
        l.expect(b"Q", l.p.queries[b"Q"][1], "Q between two K", "turn_off_after_delay")
        l.watch(GAP - 0.3)
        l.expect_silence(b"K", "K after K Q: a new first press, no reply",
                         "turn_off_after_delay", secs=GAP, sentinel=False)
        l.expect(b"K", sd, "K %.1f s after K" % GAP, "turn_off_after_delay")
        l.expect(b"Q", l.p.queries[b"Q"][1], "on line during the shutdown delay",
                 "turn_off_after_delay")
        # a second K..K while the first is pending conflicts: NA
        l.expect_silence(b"K", "first K of a second pair is silent", "turn_off_after_delay",
                         secs=GAP, sentinel=False)
        l.expect(b"K", b"NA", "K..K while a K..K is pending", "turn_off_after_delay")
        if l.supported("abort_shutdown"):
            l.expect(DEL, b"OK", "DEL aborts the pending K", "abort_shutdown")
            l.expect(DEL, b"NO", "DEL with nothing pending", "abort_shutdown")
    elif l.supported("abort_shutdown"):
        l.expect(DEL, b"NO", "DEL with nothing pending", "abort_shutdown")


def sc_z(l):
    l.smart()
    if l.supported("turn_off_immediate"):
        # too quick: the pair is ignored (> 1.5 s in the spec)
        l.expect_silence(b"Z", "first Z is silent", "turn_off_immediate", secs=0.5,
                         sentinel=False)
        l.expect_silence(b"Z", "Z 0.5 s after Z is ignored", "turn_off_immediate", secs=0.3)
        l.expect(b"Q", l.p.queries[b"Q"][1], "still on after a too-quick Z Z",
                 "turn_off_immediate")
        l.expect_silence(b"Z", "first Z is silent", "turn_off_immediate", secs=GAP,
                         sentinel=False)
        l.expect(b"Z", l.p.sd_reply, "Z %.1f s after Z" % GAP, "turn_off_immediate")
        l.wait_q(b"00", 2.0, "output off after Z..Z", "turn_off_immediate")
        if l.supported("abort_shutdown"):
            l.expect(DEL, b"NO", "DEL after Z..Z: nothing to abort", "abort_shutdown")
    if l.supported("turn_ups_on"):
        l.expect_silence(CTRL_N, "first ^N is silent", "turn_ups_on", secs=GAP, sentinel=False)
        l.expect_silence(CTRL_N, "^N %.1f s after ^N: no reply" % GAP, "turn_ups_on",
                         secs=0.5)
        l.wait_q(l.p.queries[b"Q"][1], 3.0, "^N..^N turns the output on", "turn_ups_on")


def sc_at(l):
    l.smart()
    if not l.supported("shutdown_delayed_wake"):
        return
    act = "shutdown_delayed_wake"
    # a non-digit after @ drops the command (it must be retried)
    l.expect_silence(b"@", "@ waits for digits", act, secs=0.2, sentinel=False)
    l.expect_silence(b"1", "@1 waits", act, secs=0.2, sentinel=False)
    l.expect_silence(b"X", "@1X: invalid character ignored, no reply", act, secs=0.3,
                     sentinel=False)
    l.expect(b"Q", l.p.queries[b"Q"][1], "still on line after @1X", act)
    l.expect_silence(b"@", "@ waits for digits", act, secs=0.2, sentinel=False)
    l.expect_silence(b"0", "@0 waits", act, secs=0.2, sentinel=False)
    l.expect_silence(b"0", "@00 waits", act, secs=0.2, sentinel=False)
    l.expect(b"1", l.p.sd_reply, "@001: reply after the third digit", act)
    l.expect(b"Q", l.p.queries[b"Q"][1], "on line during the shutdown delay", act)
    if l.supported("abort_shutdown"):
        l.expect(DEL, b"OK", "DEL aborts the pending @ddd", "abort_shutdown")
        l.expect(DEL, b"NO", "DEL with nothing pending", "abort_shutdown")
        l.expect(b"@123", l.p.sd_reply, "@123 after the abort", act)


def interlocks(l, why):
    """After an accepted S (or during D): K U W Z @ - answer NA."""
    for action, data in (("turn_off_after_delay", b"K"), ("simulate_power_failure", b"U"),
                         ("battery_test", b"W"), ("turn_off_immediate", b"Z"),
                         ("shutdown_delayed_wake", b"@"), ("edit_next", b"-")):
        b = BYTE_OF[action]
        if l.status(b) != "yes":
            l.expect_unsupported(data, action, "%s unsupported (%s)" % (show(data), why))
            continue
        if data == b"-":
            setting = next((bytes([s]) for s in b"upqEs" if l.p.answers(bytes([s]))), None)
            if setting is None:
                continue
            l.expect(setting, l.p.current(setting), "%s before - (%s)" % (show(setting), why),
                     action)
        l.expect(data, b"NA", "%s %s" % (show(data), why), action)


def sc_us(l):
    """S on line, U, S on battery, the S interlock, DEL aborts S."""
    p = l.p
    l.smart()
    if l.supported("shutdown_on_battery"):
        l.expect(b"S", p.s_on_line, "S on line (behaviour.s_on_line)", "shutdown_on_battery")
    if not l.supported("simulate_power_failure"):
        return
    l.expect(b"G", p.queries[b"G"][1], "G before any transfer here (the profile's "
             "electrical.transfer_cause)", "transfer_cause")
    got = l.expect(b"U", b"OK", "U", "simulate_power_failure")
    if b"!" in p.alerts:
        l.r.check(got is not None and b"!" in got[:-2],
                  "U announces the transfer with ! : got %s" % show(got),
                  "simulate_power_failure")
    else:   # the profile says no; the spec says every UPS does
        l.r.check(False, "ULS p.24: U announces the transfer with ! : got %s" % show(got),
                  "simulate_power_failure", known="spec-linefail")
    l.expect(b"Q", b"10", "on battery after U", "simulate_power_failure")
    l.expect(b"G", b"S", "G after U (command induced)", "simulate_power_failure")
    if p.status(b"S") == "yes":
        l.expect(b"S", b"OK", "S on battery (right after U)", "shutdown_on_battery")
        interlocks(l, "after an accepted S")
        if l.supported("abort_shutdown"):
            l.expect(DEL, b"OK", "DEL aborts S", "abort_shutdown")


def sc_uret(l):
    """U ends by itself: back on line with `$`; D needs a full battery."""
    p = l.p
    l.smart()
    if p.status(b"U") != "yes":
        return
    l.expect(b"U", b"OK", "U", "simulate_power_failure")
    secs = p.timing["simulated_failure"] / 1000.0
    got = l.watch(secs + 1.0)
    want = b"$" if b"$" in p.alerts else b""
    l.r.check(got.replace(b"!", b"") == want,
              "back on line %.0f s after U: got %s, want %s" % (secs, show(got), show(want)),
              "simulate_power_failure")
    l.expect(b"Q", p.queries[b"Q"][1], "on line after the simulated failure",
             "simulate_power_failure")
    if p.status(b"D") == "yes":
        f = l.strip(l.cmd(b"f"))
        want = b"OK" if f == b"100.0" else b"NO"
        l.expect(b"D", want, "D at charge %s" % show(f), "run_time_calibration")
        if want == b"OK":
            l.expect(b"D", b"OK", "second D aborts", "run_time_calibration")


def sc_d(l):
    p = l.p
    l.smart()
    if not l.supported("run_time_calibration"):
        return
    l.expect(b"D", b"OK", "D at 100 % charge", "run_time_calibration")
    q = l.strip(l.cmd(b"Q"))
    ok = q is not None and re.fullmatch(F_HEX2, q) and int(q, 16) & 0x11 == 0x11
    l.r.check(bool(ok), "Q during calibration has bits 0 and 4: %s" % show(q),
              "run_time_calibration")
    interlocks(l, "during calibration")
    l.expect(b"D", b"OK", "second D aborts the calibration", "run_time_calibration")
    l.wait_q(p.queries[b"Q"][1], 2.0, "on line after the abort", "run_time_calibration")


def sc_w(l):
    p = l.p
    l.smart()
    if not l.supported("battery_test"):
        return
    l.expect(b"X", b"NO", "X before any test", "battery_test_result")
    l.expect(b"W", b"OK", "W", "battery_test")
    secs = p.timing["selftest"] / 1000.0
    l.expect(b"X", b"NO", "X during the test", "battery_test_result")
    l.watch(max(0.0, secs - 1.0))
    deadline = time.monotonic() + 3.0
    got = None
    while time.monotonic() < deadline:
        got = l.strip(l.cmd(b"X"))
        if got == b"OK":
            break
        l.watch(0.2)
    l.r.check(got == b"OK", "X after the %.0f s test: %s" % (secs, show(got)), "battery_test")
    l.expect(b"G", b"S", "G after a self-test", "transfer_cause")


def sc_bypass(l):
    l.smart()
    if not l.supported("ups_to_bypass_toggle"):
        return
    l.expect(b"^", b"BYP", "^ to bypass", "ups_to_bypass_toggle")
    l.watch(l.p.timing["bypass"] / 1000.0 + 0.3)
    l.expect(b"^", b"INV", "^ back to the inverter", "ups_to_bypass_toggle")


SCENARIOS = [("queries", sc_queries), ("edit", sc_edit), ("K", sc_k), ("Z", sc_z),
             ("@", sc_at), ("U+S", sc_us), ("U-return", sc_uret), ("D", sc_d),
             ("W", sc_w), ("bypass", sc_bypass)]


def run_scenario(prof, name, fn):
    res = Result(prof.name, name)
    l = None
    try:
        l = Link(prof, res)
        fn(l)
        tail = l.watch(0.1)
        res.check(l.only_alerts(tail), "stray bytes at the end: %s" % show(tail))
    except Exception:
        res.check(False, "exception:\n" + traceback.format_exc())
    finally:
        if l is not None:
            l.close()
    return res


def main():
    t0 = time.monotonic()
    rc, out, err = run("--list-profiles")
    names = [ln.split()[0] for ln in out.splitlines() if ln.strip()]
    total_ok, total_bad = 0, 0
    if rc != 0 or not names:
        print("FAIL: --list-profiles: rc %d %s" % (rc, err))
        print("actions: 0 passed, 1 failed")
        return 1

    profiles, setup_fails = [], []
    for n in names:
        try:
            table, ids, claimed = command_table(n)
            missing = set(ACTION_IDS) - set(ids)
            extra = set(ids) - set(ACTION_IDS)
            if missing or extra or claimed != 72:
                setup_fails.append("%s: --list-commands actions differ from the spec: "
                                   "missing %s, unknown %s, claims %s"
                                   % (n, sorted(missing), sorted(extra), claimed))
            for a, b in ids.items():
                if a in BYTE_OF and BYTE_OF[a] != b:
                    setup_fails.append("%s: table puts %s on %s, spec on %s"
                                       % (n, a, show(b), show(BYTE_OF[a])))
            profiles.append(Profile(n, table))
        except Exception:
            setup_fails.append("%s: %s" % (n, traceback.format_exc()))
    total_bad += len(setup_fails)
    for f in setup_fails:
        print("FAIL: " + f)

    only = os.environ.get("ACTIONS_PROFILES")     # debugging: a comma list
    if only:
        profiles = [p for p in profiles if p.name in only.split(",")]
    jobs = [(p, s, fn) for p in profiles for s, fn in SCENARIOS]
    with ThreadPoolExecutor(max_workers=min(len(jobs), 48)) as ex:
        results = list(ex.map(lambda j: run_scenario(*j), jobs))

    print("%-24s %6s %6s  %s" % ("profile", "passed", "failed", "actions checked "
                                 "(answered / NA-or-silent)"))
    for p in profiles:
        rs = [r for r in results if r.profile == p.name]
        ok = sum(r.ok for r in rs)
        fails = [f for r in rs for f in r.fails]
        covered = set().union(*(r.covered for r in rs))
        for a in ACTION_IDS:
            if a not in covered:
                fails.append("%s: action %s was not checked" % (p.name, a))
        answered = sum(1 for a in covered if a in BYTE_OF and p.status(BYTE_OF[a]) == "yes")
        for f in fails:
            print("FAIL: " + f)
        for k in (k for r in rs for k in r.known):
            print("KNOWN: " + k)
        print("%-24s %6d %6d  %d/72 (%d / %d)" % (p.name, ok, len(fails),
              len(covered & set(ACTION_IDS)), answered, len(covered) - answered),
              flush=True)
        total_ok += ok
        total_bad += len(fails)
    print("time %.1f s" % (time.monotonic() - t0))
    print("actions: %d passed, %d failed" % (total_ok, total_bad))
    return 1 if total_bad or not total_ok else 0


if __name__ == "__main__":
    sys.exit(main())
