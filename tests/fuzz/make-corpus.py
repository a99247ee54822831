#!/usr/bin/env python3
"""Write the fuzz harnesses' seed corpora (tests/fuzz/corpus/<harness>/)
from the seed documents' curl examples and config.toml, the README's
examples and a few hand-made protobuf messages. Run once after a change of
the route table or the harnesses' input formats:

    tests/fuzz/make-corpus.py SEEDS_DIR BUILD_DIR

SEEDS_DIR holds the seed documents (*.md); BUILD_DIR is a fuzz build
(make fuzz-build), whose fuzz-json-pb lists its targets."""
import hashlib, io, os, re, shlex, subprocess, sys, zipfile

here = os.path.dirname(os.path.abspath(__file__))
seeds_dir, build = sys.argv[1], sys.argv[2]
docs = [os.path.join(seeds_dir, f) for f in sorted(os.listdir(seeds_dir)) if f.endswith(".md")]
docs.append(os.path.join(here, "..", "..", "README.md"))


def put(harness, data):
    d = os.path.join(here, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


# ---- protobuf wire format, enough for the seeds ----
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value & (2**64 - 1))
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields)


# ---- curl examples: (method, path, body) ----
def curl_examples():
    out = []
    for doc in docs:
        text = open(doc, encoding="utf-8").read()
        for m in re.finditer(r"\bcurl ", text):
            # The command ends at the first newline outside quotes that no
            # backslash continues.
            i, q = m.start(), None
            while i < len(text):
                c = text[i]
                if q:
                    q = None if c == q else q
                elif c in "'\"":
                    q = c
                elif c == "\\" and i + 1 < len(text):
                    i += 1
                elif c == "\n":
                    break
                i += 1
            try:
                args = shlex.split(text[m.start():i].replace("\\\n", " "))
            except ValueError:
                continue
            method, url, body = None, None, None
            i = 1
            while i < len(args):
                a = args[i]
                if a in ("-X", "--request"):
                    method = args[i + 1]; i += 1
                elif a in ("-d", "--data"):
                    body = args[i + 1]; i += 1
                elif a in ("-H", "--header"):
                    i += 1
                elif a.startswith("http"):
                    url = a
                i += 1
            if not url or "localhost" not in url and "127.0.0.1" not in url:
                continue
            path = re.sub(r"^https?://[^/]+", "", url)
            out.append((method or ("POST" if body else "GET"), path, body))
    return out


examples = curl_examples()
print(f"{len(examples)} curl examples", file=sys.stderr)

# ---- fuzz-json-pb: [target][mode] + body ----
env = dict(os.environ, SBX_FUZZ_LIST_TARGETS="1")
listing = subprocess.run([os.path.join(build, "bin", "fuzz-json-pb")], env=env,
                         capture_output=True, text=True, check=True).stdout
targets = [l.split("\t") for l in listing.splitlines()]
for idx, method, pattern, rpc in targets:
    i = int(idx)
    put("fuzz-json-pb", bytes([i, 0]) + b"{}")
    put("fuzz-json-pb", bytes([i, 1]))
    put("fuzz-json-pb", bytes([i, 3]))
    if pattern != "-":
        rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/?]+", re.escape(pattern)) + r"(\?.*)?$"
        for m, path, body in examples:
            if m == method and re.match(rx, path):
                if body:
                    put("fuzz-json-pb", bytes([i, 0]) + body.encode())
                q = path.partition("?")[2]
                params = [p for p in q.split("&") if "=" in p]
                names = re.findall(r"\{([^}]*)\}", pattern)
                params += [f"{n}=fab81d7c-f665-432b-85c4-f9d380019709" for n in names]
                if params:
                    put("fuzz-json-pb", bytes([i, 2]) + "\n".join(params).encode())
# A reply of each kind: Health, an ExecResult-like message (fields 1-3).
for i in range(len(targets)):
    put("fuzz-json-pb", bytes([i, 1]) + msg((1, "ok"), (2, "sandbox-service"), (3, "0.1.0")))

# ---- fuzz-router: [method<<1] + path, or [1|method<<1] + pattern\npath ----
methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "get"]
for m, path, body in examples:
    put("fuzz-router", bytes([methods.index(m) << 1 if m in methods else 0]) + path.partition("?")[0].encode())
for _, method, pattern, _ in targets:
    if pattern != "-":
        path = re.sub(r"\{[^}]*\}", "abc", pattern)
        put("fuzz-router", bytes([methods.index(method) << 1]) + path.encode())
        put("fuzz-router", bytes([1 | methods.index(method) << 1]) + f"{pattern}\n{path}".encode())
for p in ["/faas/abc/", "/faas/abc/x/y?z", "/proxy/abc/%2e%2e/x", "/sandbox/%2F/execute",
          "/sandbox/../health", "/health/", "//health", "/sandbox/a%00b"]:
    put("fuzz-router", b"\x00" + p.encode())
put("fuzz-router", b"\x01/faas/{id}/*\n/faas/abc/def/")

# ---- fuzz-config: [0] toml, [1] daemon toml %% lines, [2] gateway lines ----
for doc in docs:
    for block in re.findall(r"```toml\n(.*?)```", open(doc, encoding="utf-8").read(), re.S):
        put("fuzz-config", b"\x00" + block.encode())
        put("fuzz-config", b"\x01" + block.encode())
put("fuzz-config", b"\x01[daemon]\nstate_dir = \"/tmp/x\"\napi_key = \"k\\\"ey\"\n[audit]\nenabled = false\n"
    b"\n%%\n$SANDBOX_TIMEOUT_MS=1000\n--max-concurrent\n4\n--print-config\n")
put("fuzz-config", b"\x01\n%%\n-hV\n--log-level=debug\n")
put("fuzz-config", b"\x02--listen\n[::1]:8080\n$SANDBOX_PORT=9000\n--max-body=16m\n--threads=2\n")
put("fuzz-config", b"\x02$SANDBOX_HOST=0.0.0.0\n--rate-limit\n60\n--log-format=json\n--help\n")

# ---- fuzz-events: [flags] + stream of frames ----
def frame(ipc, topic, ev):
    body = topic.encode() + b"\0" + ev
    return (b"\x01" if ipc else b"") + len(body).to_bytes(8, "big") + body

ev_out = msg((2, 1), (3, 1733212800000000), (4, "stdout"), (5, "hello\n"))
ev_err = msg((2, 2), (3, 1733212800000001), (4, "stderr"), (5, b"\xff oops\x01\n"))
ev_exit = msg((2, 3), (4, "exit"), (5, '{"exit_code":0}'))
ev_state = msg((2, 1), (4, "state"), (5, "running"))
for ipc in (0, 1):
    stream = (frame(ipc, "logs/sbx-1", ev_out) + frame(ipc, "logs/sbx-1", ev_err) +
              frame(ipc, "logs/sbx-1", ev_exit) + frame(ipc, "state/sbx-1", ev_state))
    for pre in range(4):
        put("fuzz-events", bytes([ipc | pre << 1]) + stream)
    put("fuzz-events", bytes([ipc | 1 << 1 | 3 << 3]) + stream)

# ---- fuzz-upload-paths: [0] paths, [1] SpawnRequest ----
for paths in [["main.py"], ["src/index.js", "package.json"], ["a/b/c/d.txt", "run.sh"],
              ["../etc/passwd"], ["/etc/passwd"], ["a//b"], ["./x"], ["dir/"], ["link/x"],
              ["abs/x"], ["file"], ["fifo"], ["hard"], ["dir/new/x", "dir"], [""]]:
    put("fuzz-upload-paths", b"\x00" + "\n".join(paths).encode())
# [2] the same traps downloaded and listed (daemon/objects/files_out.h)
for paths in [["dir/own", "dir"], ["link/secret", "abs/secret", "file"], ["hard", "fifo", ""],
              ["../outside/secret", "/etc/passwd", "dir/own/x"]]:
    put("fuzz-upload-paths", b"\x02" + "\n".join(paths).encode())
limits = msg((1, 1000), (2, 3000), (3, 262144), (4, 64), (5, 10240), (6, 64), (7, 8192), (8, 1048576))
for extra in [[(3, "/workspace")], [(3, "/tmp/../etc")], [(7, msg((1, "/usr/lib/node"), (2, "/opt/node")))],
              [(7, msg((1, "/usr"), (2, "/proc/sys")))], [(5, msg((1, "main.py"), (2, "print(1)")))],
              [(5, msg((1, "../x"), (2, "")))], [(6, "/var/lib/sandboxd/ws/1"), (11, "/var/lib/sandboxd/tmp/1")]]:
    req = msg((1, "/usr/bin/python3"), (1, "main.py"), (2, "PATH=/usr/bin"), *extra, (8, limits))
    put("fuzz-upload-paths", b"\x01" + req)

# ---- fuzz-semver: a version line, a newline, a selector ----
for line, sel in [("Python 3.11.2", "^3.x || >=2 <3"), ("rustc 1.63.0 (4b91a6ea7 2022-08-08)", "1.2.3 - 2"),
                  ("1.0.0", "~> 1 >= 0.0.1-beta.2+b <*"), ("go version go1.19.8 linux/amd64", "~1.19"),
                  ("Erlang/OTP 25", "25 || 26.x"), ("v20.20.2", "=v20.20.2")]:
    put("fuzz-semver", line + "\n" + sel)

# ---- fuzz-dns: 0 + a query, 1 + an answer, 2 + an egress list ----
def dns_name(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
for name, qtype in [("ok.example.test", 1), ("Registry.NPMJS.org", 28), ("x", 16)]:
    put("fuzz-dns", b"\0" + b"\x12\x34\x01\x00\0\x01\0\0\0\0\0\0" + dns_name(name) + bytes([0, qtype, 0, 1]))
q = dns_name("ok.example.test") + b"\0\x01\0\x01"
a = b"\xc0\x0c\0\x01\0\x01\0\0\0\x3c\0\x04\xc6\x33\x64\x09"
cname = b"\xc0\x0c\0\x05\0\x01\0\0\0\x3c\0\x02\xc0\x0c"
put("fuzz-dns", b"\x01" + b"\x12\x34\x81\x80\0\x01\0\x02\0\0\0\0" + q + cname + a)
put("fuzz-dns", b"\x01" + b"\x12\x34\x81\x83\0\x01\0\0\0\0\0\0" + q)
for l in ["198.51.100.8:7, ok.example.test:7, 10.214.0.2:81", "*", "*.npmjs.org:443,10.0.0.0/8",
          "registry.npmjs.org:443,registry.yarnpkg.com:443", "1.2.3.4/33", "::1", "a..b", "-a.b:0"]:
    put("fuzz-dns", b"\x02" + l.encode())

# ---- fuzz-envelope: [method] + RpcRequest / RpcReply bytes ----
run = msg((1, "/bin/echo"), (1, "hi"), (2, limits), (6, "/tmp"))
put("fuzz-envelope", b"\x00" + msg((1, "Run"), (2, 7), (3, 1733212800000), (4, "key"), (5, run), (6, "127.0.0.1")))
put("fuzz-envelope", b"\x00" + msg((1, "Health"), (2, 1)))
put("fuzz-envelope", b"\x00" + msg((1, 1), (2, 0), (4, msg((1, "ok"), (2, "sandbox-service")))))
put("fuzz-envelope", b"\x00" + msg((1, 2), (2, 5), (3, "sandbox not found")))

# ---- fuzz-judge0-zip: a zip archive (Judge0's additional_files) ----
def zip_of(entries, comp=zipfile.ZIP_DEFLATED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", comp) as zf:
        for name, data, mode in entries:
            zi = zipfile.ZipInfo(name)
            zi.compress_type, zi.create_system, zi.external_attr = comp, 3, mode << 16
            zf.writestr(zi, data)
    return out.getvalue()


for entries, comp in [
        ([("compile", "gcc main.c\n", 0o100755), ("run", "./a.out\n", 0o100755), ("lib/", "", 0o040755),
          ("lib/x.h", "#define X 1\n", 0o100644)], zipfile.ZIP_DEFLATED),
        ([("data.txt", "a\nb\n", 0o100644)], zipfile.ZIP_STORED),
        ([("l", "/etc/shadow", 0o120777)], zipfile.ZIP_DEFLATED),
        ([("../escape", "x", 0o100644)], zipfile.ZIP_DEFLATED),
        ([("a", "1", 0o100644), ("a/b", "2", 0o100644)], zipfile.ZIP_DEFLATED),
        ([("big", "x" * 100000, 0o100644)], zipfile.ZIP_DEFLATED)]:
    put("fuzz-judge0-zip", zip_of(entries, comp))
