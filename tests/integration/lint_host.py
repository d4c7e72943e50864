"""A small host that breaks every rule the host lint knows (docs/lint.md),
one violation at a time, on an open upssim pty; and a well-behaved host
that breaks none.  Used by test_lint.py; also runnable by hand:

    python3 tests/integration/lint_host.py /dev/pts/N [good|bad]

Each violation is a function that sends its bytes the way a careless host
would; VIOLATIONS maps the lint rule it must trigger to it, with the bytes
the finding must name.
"""
import os
import select
import sys
import time
import tty


class Host:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def send(self, b):
        os.write(self.fd, b)

    def read(self, seconds=0.3):
        """Everything that arrives within `seconds` (the host reads it)."""
        end = time.monotonic() + seconds
        buf = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return buf
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                buf += os.read(self.fd, 4096)

    def ask(self, b, wait=0.3):
        """Send, then read the reply: what a well-behaved host does."""
        self.send(b)
        return self.read(wait)


def undocumented(h):
    h.ask(b"\x1b")                 # ESC: not a UPS-Link command


def unsupported(h):
    h.ask(b"^")                    # bypass: a Matrix command, not a 3G one


def second_press_early(h):
    h.ask(b"K", 0.5)               # the second K 0.5 s later: both ignored
    h.ask(b"K")


def two_press_interrupted(h):
    h.ask(b"Z", 0.5)
    h.ask(b"Q", 0.5)               # Q between the Z presses cancels them
    h.ask(b"Z")                    # (a fresh first press, left pending)


def entry_runs_on(h):
    h.ask(b"c")
    h.ask(b"-")
    h.send(b"AB\r")                # "AB" and CR: the host thinks it is done
    time.sleep(0.5)
    h.ask(b"QCPXL")                # ... and polls: these become the name
    h.ask(b"c")


def entry_overrun(h):
    h.ask(b"c")
    h.ask(b"-")
    h.send(b"NEWNAME1S")           # 9 characters: S is a shutdown
    h.read()


def sent_before_reply(h):
    h.send(b"QB")                  # B before Q's reply came
    h.read()


def eeprom_wear(h):
    for _ in range(8):             # 16 EEPROM writes in a few seconds
        h.ask(b"p", 0.1)
        h.ask(b"-", 0.1)
        h.ask(b"r", 0.1)
        h.ask(b"-", 0.1)


# rule -> (violation, the bytes the finding names)
VIOLATIONS = {
    "undocumented-byte": (undocumented, b"\x1b"),
    "unsupported-command": (unsupported, b"^"),
    "second-press-early": (second_press_early, b"KK"),
    "two-press-interrupted": (two_press_interrupted, b"ZQ"),
    "entry-runs-on": (entry_runs_on, b"QCPXL"),
    "entry-overrun": (entry_overrun, b"S"),
    "sent-before-reply": (sent_before_reply, b"QB"),
    "eeprom-wear": (eeprom_wear, b""),
}


def good(h):
    """What NUT and apcupsd do: read every reply before the next command,
    K..K 1.5 s apart (then DEL), a c entry padded with CR at 50 ms a
    character and read back, a few EEPROM edits."""
    h.ask(b"Y")
    for c in b"QCPXLF9GMNOfBjabnm\x01\x1a":
        h.ask(bytes([c]), 0.15)
    h.ask(b"K", 1.55)
    h.ask(b"K", 0.3)
    h.ask(b"\x7f")
    h.ask(b"c")
    h.ask(b"-", 0.2)
    for c in b"HOST1\r\r\r":
        h.send(bytes([c]))
        time.sleep(0.05)
    h.read()
    h.ask(b"c")
    for _ in range(3):
        h.ask(b"u", 0.1)
        h.ask(b"-", 0.1)


def bad(h):
    """Every violation in one session."""
    h.ask(b"Y")
    for fn, _ in VIOLATIONS.values():
        fn(h)
        h.read(0.2)


def main():
    path, what = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "bad"
    h = Host(path)
    if what == "good":
        good(h)
    else:
        bad(h)
    h.close()


if __name__ == "__main__":
    main()
