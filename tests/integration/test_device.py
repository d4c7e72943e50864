"""--device: serve an existing tty.  socat makes a pty pair; upssim serves
one end like a real serial port with a null-modem cable, and the test talks
to the other end as the host.  Also --measure-ups on a profile without it."""
import os
import select
import shutil
import subprocess
import tempfile
import time

from upssim_proc import Check, Sim, run

c = Check("device")

if not shutil.which("socat"):
    print("socat is required (scripts/install-deps.sh installs it)")
    raise SystemExit(1)

with tempfile.TemporaryDirectory() as d:
    ups_end, host_end = os.path.join(d, "ups-end"), os.path.join(d, "host-end")
    socat = subprocess.Popen(["socat", "-d", "-d",
                              "pty,raw,echo=0,link=" + ups_end,
                              "pty,raw,echo=0,link=" + host_end],
                             stderr=subprocess.PIPE)
    try:
        # wait for socat to report both ptys ("starting data transfer loop")
        deadline, log = time.monotonic() + 10, b""
        while b"starting data transfer loop" not in log and time.monotonic() < deadline:
            r, _, _ = select.select([socat.stderr], [], [], deadline - time.monotonic())
            if not r:
                break
            chunk = os.read(socat.stderr.fileno(), 4096)
            if not chunk:
                break
            log += chunk
        c(os.path.exists(ups_end) and os.path.exists(host_end), "socat pty pair ready")

        s = Sim("--device", ups_end, "--profile", "smart-ups-1000-230")
        c.eq(s.path, ups_end, "first line is the served device")
        s.path = host_end  # the host opens the other end of the "cable"
        s.open()
        s.smart()
        c.eq(s.cmd("Q"), b"08", "Q through the null-modem pair")
        c.eq(s.cmd("L")[:2], b"23", "230 V line through the pair")
        c.eq(s.cmd("t"), b"NA", "no Measure-UPS by default")
        s.stop()
        c.eq(s.proc.returncode, 0, "clean exit")
        c(os.path.exists(ups_end), "--device is never unlinked")

        # The cable is pulled: the far end disappears.  upssim must notice
        # the hang-up and exit 5 with a message, not spin on poll.
        s = Sim("--device", ups_end)
        s.path = host_end
        s.open()
        s.smart()
        s.close()
        socat.terminate()
        socat.wait(10)
        try:
            s.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        rc = s.proc.poll()
        err = s.stop()
        c.eq(rc, 5, "exit 5 when the device hangs up")
        c("lost the device" in err, "says it lost the device: %r" % err)
    finally:
        if socat.poll() is None:
            socat.terminate()
            socat.wait(10)

with Sim("--measure-ups") as s:
    s.open()
    s.smart()
    reply = s.cmd("t")
    c(reply is not None and len(reply) == 5 and reply[2:3] == b".", "t answers dd.dd: %r" % reply)
    c.eq(s.cmd("v")[:1], b"4", "v: Measure-UPS firmware starts with 4")
    c("t".encode() in s.cmd("a").split(b".")[2], "t is listed in a")
    # the accessory brings its own alarm-limit lists (ULS p.29-30)
    c.eq(s.cmd("["), b"32.13", "[ answers the accessory's first upper limit")
    c.eq(s.cmd("-"), b"OK", "[ can be edited")
    c.eq(s.cmd("["), b"45.90", "[ cycles to the next limit")
    c.eq(s.cmd("}"), b"010.0", "} answers the lower humidity limit")
rc, out, _ = run("--measure-ups", "--list-commands")
c(rc == 0 and "| `t` | ambient_temperature |" in out and
  [l for l in out.splitlines() if l.startswith("| `t` ")][0].split("|")[7].strip() == "yes",
  "--list-commands honours --measure-ups")
c.done()
