"""scripts/plot-timeline.sh: a small timeline CSV becomes a PNG (checked by
its signature and IHDR size) and an SVG (an <svg> document with the panels'
labels and the Q-change labels in it); bad input, bad options and a
missing gnuplot give clear messages and the documented exit codes, and a
failed run leaves no picture behind.  gnuplot is required
(scripts/install-deps.sh installs gnuplot-nox)."""
import os
import shutil
import struct
import subprocess
import tempfile

from upssim_proc import SRC, Check

c = Check("plot")
SCRIPT = os.path.join(SRC, "scripts", "plot-timeline.sh")
HEADER = "t_s,event,Q,charge_pct,runtime_min,line_v,out_v,load_pct,batt_v"
# a blackout on a 40 % load: on battery, low battery, shutdown, line back;
# then a notch, two changes of Q too close to label apart
ROWS = """0.000,start,08,100.0,45.2,120.0,120.0,40.0,27.40
30.000,cmd Y,08,100.0,45.2,120.0,120.0,40.0,27.40
60.000,{line: off},10,100.0,45.2,0.0,120.0,40.0,25.80
300.000,state,10,80.5,36.4,0.0,120.0,40.0,25.10
600.000,state,50,19.8,8.9,0.0,120.0,40.0,23.90
620.000,"cmd S, then \"\"K\"\"",50,19.5,8.8,0.0,120.0,40.0,23.88
640.000,shutdown,00,19.4,8.8,0.0,0.0,0.0,24.50
700.000,{line: 121},08,19.4,8.8,121.0,121.0,40.0,26.10
800.000,{notch: 200ms},10,25.0,11.0,121.0,121.0,40.0,26.00
800.200,,08,25.0,11.0,121.0,121.0,40.0,26.30
900.000,state,08,30.2,13.6,121.0,121.0,40.0,26.60
"""

if not shutil.which("gnuplot"):
    print("FAIL: gnuplot is not installed: run scripts/install-deps.sh "
          "(Debian package gnuplot-nox)")
    raise SystemExit(1)


def plot(*args, env=None):
    p = subprocess.run(["bash", SCRIPT, *args], capture_output=True,
                       timeout=60, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


with tempfile.TemporaryDirectory() as d:
    csv = os.path.join(d, "t.csv")
    with open(csv, "w") as f:
        f.write(HEADER + "\n" + ROWS)

    png = os.path.join(d, "t.png")
    rc, _, err = plot(csv, png)
    c.eq(rc, 0, "PNG run exits 0 (stderr %r)" % err)
    c.eq(err, "", "no warnings for a good CSV")
    with open(png, "rb") as f:
        data = f.read()
    c(data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature")
    c(data[12:16] == b"IHDR", "PNG starts with IHDR")
    c.eq(struct.unpack(">II", data[16:24]), (1000, 1100), "default size")
    c(data.endswith(b"IEND\xaeB`\x82"), "PNG is complete (IEND)")

    rc, _, err = plot("--size", "640x800", "--title", "it's a test", csv,
                      os.path.join(d, "small.PNG"))
    c.eq(rc, 0, "--size and --title, upper-case extension (%r)" % err)
    with open(os.path.join(d, "small.PNG"), "rb") as f:
        c.eq(struct.unpack(">II", f.read(24)[16:24]), (640, 800),
             "--size is the PNG's size")

    svg = os.path.join(d, "t.svg")
    rc, _, err = plot("--labels", "all", csv, svg)
    c.eq(rc, 0, "SVG run exits 0 (stderr %r)" % err)
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    c(text.lstrip().startswith("<?xml") and "<svg" in text
      and text.rstrip().endswith("</svg>"), "SVG document")
    for want in ("charge (%)", "runtime (min)", "voltage (V)", "load (%)",
                 "battery (V)", "Q register", "OL", "OB", "LB",
                 "{line: off}  Q=10", "shutdown  Q=00", "cmd Y"):
        c(want in text, "SVG shows %r" % want)
    c("{notch: 200ms}  Q=10>08" in text.replace("&gt;", ">"),
      "a quick flip of Q merges into one label")
    c("cmd S, then &quot;K&quot;" in text or 'cmd S, then "K"' in text,
      "a quoted CSV field is read whole")

    rc, _, err = plot("--labels", "none", csv, svg)
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    c(rc == 0 and "Q=10" not in text and "charge (%)" in text,
      "--labels none draws no labels")
    rc, _, err = plot(csv, svg)
    with open(svg, encoding="utf-8") as f:
        text = f.read()
    c(rc == 0 and "shutdown  Q=00" in text and "cmd Y" not in text,
      "default labels: only the changes of Q")

    # errors: usage (2), input (1), no gnuplot (3); no picture left behind
    rc, out, _ = plot("--help")
    c(rc == 0 and "Usage:" in out and "--labels" in out, "--help")
    rc, _, err = plot(csv)
    c(rc == 2 and "Usage:" in err, "one argument: usage, exit 2")
    rc, _, err = plot(csv, os.path.join(d, "t.jpg"))
    c(rc == 2 and "must end in .png or .svg" in err, "bad extension: %r" % err)
    rc, _, err = plot("--labels", "some", csv, png)
    c(rc == 2 and "--labels" in err, "bad --labels: %r" % err)
    rc, _, err = plot("--size", "big", csv, png)
    c(rc == 2 and "--size" in err, "bad --size: %r" % err)
    rc, _, err = plot("--frobnicate", csv, png)
    c(rc == 2 and "--frobnicate" in err, "unknown option: %r" % err)

    def bad_input(name, body, want):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(body)
        outp = os.path.join(d, name + ".png")
        rc, _, err = plot(p, outp)
        c(rc == 1 and want in err and p in err,
          "%s: exit 1 and %r in %r" % (name, want, err))
        c(not os.path.exists(outp), "%s: no picture left" % name)

    bad_input("noheader.csv", "a,b,c\n1,2,3\n", "not a upssim timeline")
    bad_input("empty.csv", HEADER + "\n", "no rows")
    bad_input("short.csv", HEADER + "\n1.0,x,08,1,2\n",
              "expected 9 fields, found 5")
    bad_input("badq.csv", HEADER + "\n1.0,x,Z8,1,2,3,4,5,6\n",
              "Q is not two hex digits")
    bad_input("badnum.csv", HEADER + "\n1.0,x,08,1,abc,3,4,5,6\n",
              "not a number")
    bad_input("quote.csv", HEADER + '\n1.0,"x,08,1,2,3,4,5,6\n',
              "unterminated quoted field")
    rc, _, err = plot(os.path.join(d, "missing.csv"), png)
    c(rc == 1 and "missing.csv" in err, "missing CSV: %r" % err)
    rc, _, err = plot(csv, os.path.join(d, "no", "dir.png"))
    c(rc == 1 and "does not exist" in err, "missing output dir: %r" % err)

    # without gnuplot on PATH: exit 3 naming the package
    bindir = os.path.join(d, "bin")
    os.mkdir(bindir)
    for tool in ("bash", "env", "head", "tr", "basename", "dirname", "awk",
                 "mktemp", "rm", "cat", "mv", "touch"):
        os.symlink(shutil.which(tool), os.path.join(bindir, tool))
    rc, _, err = plot(csv, os.path.join(d, "x.png"),
                      env={"PATH": bindir, "TMPDIR": d})
    c(rc == 3 and "gnuplot-nox" in err, "no gnuplot: exit 3: %r" % err)

c.done()
