/* Real programs under the final seccomp policy, in a real sandbox: what a
 * tighter filter must not break. Threads, processes, event loops, child
 * processes, loopback sockets and interface listing (NETLINK_ROUTE) in
 * python3, node and bun, and a rustc compile whose binary then runs. Each
 * case checks the program's output, not just its exit code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_util.h"
#include "testlib.h"

static const char python_code[] =
	"import asyncio, multiprocessing, socket, subprocess, threading\n"
	"def square(x): return x * x\n"
	"out = []\n"
	"total = [0]; lock = threading.Lock()\n"
	"def work(n):\n"
	"    with lock: total[0] += n\n"
	"ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
	"[t.start() for t in ts]; [t.join() for t in ts]\n"
	"print('threads', total[0])\n"
	"with multiprocessing.Pool(2) as p: print('pool', sum(p.map(square, range(10))))\n"
	"q = multiprocessing.Queue()\n"
	"pr = multiprocessing.Process(target=q.put, args=('from-child',)); pr.start()\n"
	"print('process', q.get(timeout=20)); pr.join()\n"
	"print('subprocess', subprocess.run(['sh', '-c', 'echo $((6*7))'],\n"
	"      capture_output=True, text=True, check=True).stdout.strip())\n"
	"async def main():\n"
	"    async def handle(r, w):\n"
	"        w.write((await r.readline()).upper()); await w.drain(); w.close()\n"
	"    srv = await asyncio.start_server(handle, '127.0.0.1', 0)\n"
	"    port = srv.sockets[0].getsockname()[1]\n"
	"    r, w = await asyncio.open_connection('127.0.0.1', port)\n"
	"    w.write(b'ping\\n'); await w.drain()\n"
	"    got = (await r.readline()).decode().strip(); w.close(); srv.close()\n"
	"    p = await asyncio.create_subprocess_exec('echo', 'async-child',\n"
	"        stdout=asyncio.subprocess.PIPE)\n"
	"    child = (await p.communicate())[0].decode().strip()\n"
	"    rs = await asyncio.gather(*(asyncio.sleep(0.01, i) for i in range(5)))\n"
	"    return got, child, sum(rs)\n"
	"print('asyncio', *asyncio.run(main()))\n"
	"u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(('127.0.0.1', 0))\n"
	"u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
	"u2.sendto(b'udp', u1.getsockname()); print('udp', u1.recv(16).decode())\n"
	"l6 = socket.socket(socket.AF_INET6); l6.bind(('::1', 0)); l6.listen()\n"
	"c6 = socket.create_connection(('::1', l6.getsockname()[1])); a6, _ = l6.accept()\n"
	"c6.sendall(b'v6'); print('tcp6', a6.recv(16).decode())\n"
	"a, b = socket.socketpair(); a.sendall(b'pair'); print('socketpair', b.recv(16).decode())\n"
	"print('ifaces', [n for _, n in socket.if_nameindex()])\n"
	"print('resolve', socket.getaddrinfo('localhost', 80, socket.AF_INET)[0][4][0])\n";

static const char python_want[] = "threads 28\n"
				  "pool 285\n"
				  "process from-child\n"
				  "subprocess 42\n"
				  "asyncio PING async-child 10\n"
				  "udp udp\n"
				  "tcp6 v6\n"
				  "socketpair pair\n"
				  "ifaces ['lo']\n"
				  "resolve 127.0.0.1\n";

static const char node_code[] =
	"const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');\n"
	"const cp = require('child_process'), net = require('net'), os = require('os');\n"
	"if (!isMainThread) {\n"
	"  let s = 0; for (let i = 0; i <= workerData; i++) s += i; parentPort.postMessage(s);\n"
	"} else (async () => {\n"
	"  const sums = await Promise.all([100, 1000].map((n) => new Promise((ok, bad) => {\n"
	"    const w = new Worker(__filename, { workerData: n });\n"
	"    w.on('message', ok); w.on('error', bad);\n"
	"  })));\n"
	"  console.log('workers', sums.join(' '));\n"
	"  console.log('execFileSync', cp.execFileSync('sh', ['-c', 'echo "
	"$((6*7))']).toString().trim());\n"
	"  const child = cp.spawn('sh', ['-c', 'read x; echo got-$x']);\n"
	"  let out = ''; child.stdout.on('data', (d) => (out += d)); child.stdin.end('hi\\n');\n"
	"  await new Promise((ok) => child.on('close', ok));\n"
	"  console.log('spawn', out.trim());\n"
	"  const srv = net.createServer((c) => c.on('data', (d) => "
	"c.end(d.toString().toUpperCase())));\n"
	"  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));\n"
	"  const reply = await new Promise((ok) => {\n"
	"    const c = net.connect(srv.address().port, '127.0.0.1', () => c.write('ping'));\n"
	"    let r = ''; c.on('data', (d) => (r += d)); c.on('end', () => ok(r));\n"
	"  });\n"
	"  srv.close(); console.log('tcp', reply);\n"
	"  console.log('ifaces', Object.keys(os.networkInterfaces()).join(','));\n"
	"})();\n";

static const char node_want[] = "workers 5050 500500\n"
				"execFileSync 42\n"
				"spawn got-hi\n"
				"tcp PING\n"
				"ifaces lo\n";

static const char bun_code[] =
	"const p = Bun.spawnSync(['sh', '-c', 'echo $((6*7))']);\n"
	"console.log('spawnSync', p.stdout.toString().trim());\n"
	"const server = Bun.serve({ hostname: '127.0.0.1', port: 0,\n"
	"  fetch: (req) => new Response('pong ' + new URL(req.url).pathname) });\n"
	"const r = await fetch(`http://127.0.0.1:${server.port}/x`);\n"
	"console.log('fetch', await r.text()); server.stop(true);\n"
	"const w = new Worker(URL.createObjectURL(new Blob(\n"
	"  ['self.onmessage = (e) => postMessage(e.data * 2)'], { type: 'application/javascript' "
	"})));\n"
	"console.log('worker', await new Promise((ok) => { w.onmessage = (e) => ok(e.data);\n"
	"  w.postMessage(21); }));\n"
	"w.terminate();\n";

static const char bun_want[] = "spawnSync 42\nfetch pong /x\nworker 42\n";

static const char rust_code[] =
	"use std::io::{Read, Write};\n"
	"use std::net::{TcpListener, TcpStream};\n"
	"fn main() {\n"
	"    let hs: Vec<_> = (1..=4u64).map(|i| std::thread::spawn(move || i * i)).collect();\n"
	"    let s: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();\n"
	"    println!(\"threads {}\", s);\n"
	"    let o = std::process::Command::new(\"sh\").args([\"-c\", \"echo "
	"child\"]).output().unwrap();\n"
	"    print!(\"command {}\", String::from_utf8_lossy(&o.stdout));\n"
	"    let l = TcpListener::bind(\"127.0.0.1:0\").unwrap();\n"
	"    let a = l.local_addr().unwrap();\n"
	"    let t = std::thread::spawn(move || {\n"
	"        let (mut c, _) = l.accept().unwrap();\n"
	"        let mut b = [0u8; 4];\n"
	"        c.read_exact(&mut b).unwrap();\n"
	"        c.write_all(&b.to_ascii_uppercase()).unwrap();\n"
	"    });\n"
	"    let mut c = TcpStream::connect(a).unwrap();\n"
	"    c.write_all(b\"ping\").unwrap();\n"
	"    let mut b = [0u8; 4];\n"
	"    c.read_exact(&mut b).unwrap();\n"
	"    t.join().unwrap();\n"
	"    println!(\"tcp {}\", String::from_utf8_lossy(&b));\n"
	"}\n";

static const char rust_want[] = "compiled\nthreads 30\ncommand child\ntcp PING\n";

struct workload {
	const char *name;
	const char *needs; /* skipped, with a reason, when missing */
	const char *file, *code;
	const char *argv[6];
	const char *want;
};

static const struct workload workloads[] = {
	{"python3",
	 "/usr/bin/python3",
	 "main.py",
	 python_code,
	 {"/usr/bin/python3", "main.py"},
	 python_want},
	{"node", "/usr/bin/node", "main.js", node_code, {"/usr/bin/node", "main.js"}, node_want},
	{"bun", "/usr/bin/bun", "main.ts", bun_code, {"/usr/bin/bun", "run", "main.ts"}, bun_want},
	{"rustc",
	 "/usr/bin/rustc",
	 "main.rs",
	 rust_code,
	 {"/bin/sh", "-c", "rustc -C opt-level=0 -o main main.rs 2>&1 && echo compiled && ./main"},
	 rust_want},
};

static void run(struct sbx_engine *e, const struct workload *w)
{
	if (access(w->needs, X_OK) != 0) {
		printf("skip %s: %s is not installed\n", w->name, w->needs);
		return;
	}
	struct tu_spec s;
	tu_spec_init(&s);
	/* Room for a compiler and a JIT, on a 2-core machine under load. */
	s.lim.memory_kb = 1024 * 1024;
	s.lim.cpu_time_ms = 60000;
	s.lim.wall_time_ms = 120000;
	s.lim.pids = 128;
	s.lim.nofile = 256;
	s.lim.fsize_kb = 64 * 1024;
	for (size_t i = 0; w->argv[i]; i++)
		s.argv[i] = w->argv[i];
	tu_add_file(&s, w->file, w->code, false);
	Sbx__ExecResult *r = tu_run(e, &s, NULL);
	CHECKF(r->status == ST(OK) && r->exit_code == 0, "%s: status %d exit %d: %s", w->name,
	       r->status, r->exit_code, tu_err(r));
	CHECKF(strcmp(tu_out(r), w->want) == 0, "%s printed:\n%s\nwant:\n%s\nstderr:\n%s", w->name,
	       tu_out(r), w->want, tu_err(r));
	printf("%s: %llu ms wall, %llu ms cpu\n", w->name, (unsigned long long)r->wall_time_ms,
	       (unsigned long long)r->cpu_time_ms);
	tu_free(r);
}

int main(void)
{
	struct sbx_engine *e = tu_engine(SBX_CGROUP_AUTO);
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		run(e, &workloads[i]);
	/* With warm node interpreters (warm_runtime.c) the node run above
	 * showed the pool its environment; after a pause for the pool to
	 * start one, the same workload runs again, from it. */
	const char *warm = getenv("SANDBOX_WARM_POOL_NODE");
	if (warm && atoi(warm) > 0) {
		usleep(800000);
		run(e, &workloads[1]);
	}
	sbx_engine_free(e);
	TEST_DONE();
}
