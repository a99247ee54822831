/* NETWORK_MODE=bridge end to end (README "Network"): a real sandboxd with
 * an egress allowlist, sandboxes that ask for the network, and fake hosts
 * in namespaces this test makes (fakenet.h): an "internet" host
 * 198.51.100.8 and .9 with TCP servers on 7 and 8 and a DNS server that
 * gives ok.example.test as .9 (otherwise unlisted), and
 * a "private" host 10.214.0.2 with servers on 80 and 81. Every refusal is
 * checked against a server that would answer without the firewall. Then
 * kill -9 and restart: nothing of the daemon's is left on the host. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakenet.h"
#include "rpcc.h"

static struct th_daemon d;
static char tag[8], subnet[24], prefix3[16], ifprefix[16], table[32];
static struct fakenet_host inet = {
	.host_cidr = "198.51.100.1/24",
	.addrs = {"198.51.100.8", "198.51.100.9"},
	.ports = {7, 8},
	.dns_name = "ok.example.test",
	.dns_addr = "198.51.100.9",
};
static struct fakenet_host priv = {
	.host_cidr = "10.214.0.1/24", .addrs = {"10.214.0.2"}, .ports = {80, 81}};
static struct fakenet_host spoof = {.ns = ""};

/* Tries each HOST:PORT argument (a name is resolved first) and prints
 * "target result" per line: OK and the greeting, an errno name,
 * NORESOLVE or TIMEOUT. */
static const char probe_py[] =
	"import socket, errno, sys\n"
	"def probe(t):\n"
	"    h, p = t.rsplit(':', 1)\n"
	"    try:\n"
	"        ip = socket.gethostbyname(h)\n"
	"    except OSError:\n"
	"        return 'NORESOLVE'\n"
	"    s = socket.socket(); s.settimeout(3)\n"
	"    try:\n"
	"        s.connect((ip, int(p))); return 'OK ' + s.recv(100).decode().strip()\n"
	"    except socket.timeout: return 'TIMEOUT'\n"
	"    except OSError as e: return errno.errorcode.get(e.errno, str(e.errno))\n"
	"    finally: s.close()\n"
	"for t in sys.argv[1:]: print(t, probe(t))\n";

static void cleanup(void)
{
	char cmd[256];

	/* A daemon the test could not stop cleanly leaves its table (the next
	 * start of the same instance would replace it): remove it here. */
	snprintf(cmd, sizeof(cmd),
		 "nft delete table inet %s 2>/dev/null; for h in $(nft -a list chain ip filter "
		 "DOCKER-USER 2>/dev/null | sed -n 's/.*\"%s\".*# handle //p'); do nft delete "
		 "rule ip filter DOCKER-USER handle $h; done",
		 table, table);
	if (table[0] && system(cmd) < 0)
		perror("system");
	fakenet_fini(&inet);
	fakenet_fini(&priv);
	fakenet_fini(&spoof);
}

/* Execute python `code` with args (a JSON array) and network. */
static struct th_rep run_py(const char *url, const char *code, json_t *args, bool network)
{
	json_t *req = json_pack("{s:s, s:s, s:o, s:b}", "language", "python", "code", code, "args",
				args ? args : json_array(), "network", network);
	char *text = json_dumps(req, 0);
	struct th_rep r = th_rpc(url, 60000, "Execute", "%s", text);

	free(text);
	json_decref(req);
	return r;
}

/* Probe the targets from a bridge sandbox; its stdout. */
static char *probe(const char *const targets[])
{
	json_t *a = json_array();

	for (size_t i = 0; targets[i]; i++)
		json_array_append_new(a, json_string(targets[i]));
	struct th_rep r = run_py(d.rpc, probe_py, a, true);
	TH_CHECK_STATUS(r, SBX_OK);
	char *out = strdup(th_rep_str(&r, "stdout"));
	if (*th_rep_str(&r, "stderr"))
		printf("stderr: %s\n", th_rep_str(&r, "stderr"));
	th_rep_fini(&r);
	return out;
}

static void expect_line(const char *out, const char *line)
{
	char want[160];

	snprintf(want, sizeof(want), "%s\n", line);
	CHECKF(strstr(out, want) != NULL, "no line '%s' in:\n%s", line, out);
}

/* The policy: listed IP:port, listed name, private host only where
 * listed; the host, metadata, unlisted addresses and ports refused. */
static void policy(void)
{
	int port = tl_free_port(), l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char host1[40], host2[40], host3[40];

	/* A server of the host itself, on every address: never reached. */
	CHECK(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 8) == 0);
	snprintf(host1, sizeof(host1), "198.51.100.1:%d", port);
	snprintf(host2, sizeof(host2), "10.214.0.1:%d", port);
	snprintf(host3, sizeof(host3), "%s.1:%d", prefix3, port);
	/* .9 before the name that resolves to it: unlisted until then. */
	const char *const t[] = {"198.51.100.8:7",
				 "198.51.100.8:8",
				 "198.51.100.9:7",
				 "10.214.0.2:80",
				 "10.214.0.2:81",
				 host1,
				 host2,
				 host3,
				 "169.254.169.254:80",
				 "ok.example.test:7",
				 "no.example.test:7",
				 NULL};
	char *out = probe(t);
	char want[96];

	expect_line(out, "198.51.100.8:7 OK hello 7 from 198.51.100.1");
	expect_line(out, "198.51.100.8:8 EHOSTUNREACH");
	expect_line(out, "198.51.100.9:7 EHOSTUNREACH");
	expect_line(out, "10.214.0.2:80 EHOSTUNREACH");
	expect_line(out, "10.214.0.2:81 OK hello 81 from 10.214.0.1");
	snprintf(want, sizeof(want), "%s EHOSTUNREACH", host1);
	expect_line(out, want);
	snprintf(want, sizeof(want), "%s EHOSTUNREACH", host2);
	expect_line(out, want);
	snprintf(want, sizeof(want), "%s EHOSTUNREACH", host3);
	expect_line(out, want);
	expect_line(out, "169.254.169.254:80 EHOSTUNREACH");
	expect_line(out, "ok.example.test:7 OK hello 7 from 198.51.100.1");
	expect_line(out, "no.example.test:7 NORESOLVE");
	free(out);
	close(l);
}

/* Run (a command, not code) asks for the network the same way. */
static void run_command(void)
{
	struct th_rep r =
		th_rpc(d.rpc, 60000, "Run",
		       "{\"argv\": [\"/usr/bin/python3\", \"-c\", \"%s\", "
		       "\"198.51.100.8:7\", \"198.51.100.8:8\"], \"network\": true}",
		       "import socket, sys\\nfor t in sys.argv[1:]:\\n"
		       "    s = socket.socket(); s.settimeout(3)\\n"
		       "    print(s.connect_ex((t.split(':')[0], int(t.split(':')[1]))))");

	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "0\n113\n"); /* 113: EHOSTUNREACH */
	th_rep_fini(&r);
}

/* Sandboxes and sessions ask for the network when they are created; each
 * of their executions then gets a link, and only theirs. */
static const char two_ports_py[] = "import socket\\nfor p in (7, 8):\\n"
				   "    s = socket.socket(); s.settimeout(3)\\n"
				   "    print(s.connect_ex(('198.51.100.8', p)))";

static void objects_ask(void)
{
	char id[64];
	for (int net = 0; net < 2; net++) {
		struct th_rep r = th_rpc(d.rpc, 30000, "CreateSandbox",
					 "{\"runtime\": \"python\", \"code\": \"%s\", "
					 "\"network\": %s}",
					 two_ports_py, net ? "true" : "false");
		TH_CHECK_STATUS(r, SBX_OK);
		snprintf(id, sizeof(id), "%s", th_rep_str(&r, "id"));
		CHECK(net ? th_rep_bool(&r, "network") : !th_rep_bool(&r, "network"));
		th_rep_fini(&r);
		r = th_rpc(d.rpc, 60000, "ExecuteSandbox", "{\"id\": \"%s\"}", id);
		TH_CHECK_STATUS(r, SBX_OK);
		/* 101: ENETUNREACH, loopback only; 113: EHOSTUNREACH, port 8 unlisted */
		CHECK_STR(th_rep_str(&r, "stdout"), net ? "0\n113\n" : "101\n101\n");
		th_rep_fini(&r);
	}
	struct th_rep r = th_rpc(d.rpc, 30000, "CreateSession", "{\"network\": true}");
	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(id, sizeof(id), "%s", th_rep_str(&r, "session_id"));
	th_rep_fini(&r);
	r = th_rpc(d.rpc, 60000, "SessionRun",
		   "{\"session_id\": \"%s\", \"command\": [\"/usr/bin/python3\", \"-c\", "
		   "\"%s\"]}",
		   id, two_ports_py);
	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "0\n113\n");
	th_rep_fini(&r);
}

/* A deployment that asks for the network: its service reaches the listed
 * host, and the daemon still reaches the service on its loopback port
 * (the forwarder socket the gateway uses, spoken to directly here). One
 * that does not ask stays on loopback. */
static const char reach_js[] =
	"require('http').createServer((q, s) => {"
	"  const c = require('net').connect(7, '198.51.100.8');"
	"  c.on('data', () => { s.end('reached'); c.destroy(); });"
	"  c.on('error', e => s.end('blocked ' + e.code));"
	"}).listen(3000, '127.0.0.1');";

static void deployment_asks(void)
{
	for (int net = 0; net < 2; net++) {
		struct th_rep r = th_rpc(d.rpc, 120000, "Deploy",
					 "{\"runtime\": \"node\", \"code\": \"%s\", "
					 "\"network\": %s}",
					 reach_js, net ? "true" : "false");
		TH_CHECK_STATUS(r, SBX_OK);
		char path[512];
		snprintf(path, sizeof(path), "%s/proxy/%s.sock", d.state,
			 th_rep_str(&r, "sandbox_id"));
		th_rep_fini(&r);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		CHECKF(strlen(path) < sizeof(sa.sun_path), "socket path too long: %s", path);
		memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
		char buf[2048] = "";
		size_t got = 0;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			const char req[] = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
			if (write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1))
				for (ssize_t n; got < sizeof(buf) - 1 &&
						(n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0;)
					got += (size_t)n;
		}
		close(fd);
		buf[got] = 0;
		const char *body = strstr(buf, "\r\n\r\n");
		CHECKF(body && strcmp(body + 4, net ? "reached" : "blocked ENETUNREACH") == 0,
		       "deployment (network %d) answered: %.300s", net, buf);
	}
}

/* Sandbox A listens; B, at the same time, tries every other address of
 * the subnet on that port: every one refused, A accepted nothing. */
static const char listen_py[] =
	"import socket, time\n"
	"u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(('198.51.100.8', 7))\n"
	"print(u.getsockname()[0])\n"
	"l = socket.socket(); l.bind(('0.0.0.0', 9000)); l.listen(8); l.settimeout(6)\n"
	"try:\n"
	"    l.accept(); print('ACCEPTED')\n"
	"except socket.timeout: print('none')\n";

struct bg {
	pthread_t t;
	struct th_rep rep;
};

static void *bg_listen(void *arg)
{
	struct bg *b = arg;
	b->rep = run_py(d.rpc, listen_py, NULL, true);
	return NULL;
}

static void no_neighbours(void)
{
	struct bg a;
	json_t *targets = json_array();
	char t[40];

	pthread_create(&a.t, NULL, bg_listen, &a);
	th_sleep_ms(1500); /* A is listening */
	for (int i = 3; i < 255; i += 2) {
		snprintf(t, sizeof(t), "%s.%d:9000", prefix3, i);
		json_array_append_new(targets, json_string(t));
	}
	struct th_rep b = run_py(d.rpc, probe_py, targets, true);
	pthread_join(a.t, NULL);
	TH_CHECK_STATUS(b, SBX_OK);
	TH_CHECK_STATUS(a.rep, SBX_OK);
	const char *out = th_rep_str(&b, "stdout"), *mine = th_rep_str(&a.rep, "stdout");
	CHECKF(strstr(out, " OK") == NULL && strstr(out, "TIMEOUT") == NULL, "reached:\n%s", out);
	char line[64];
	snprintf(line, sizeof(line), "%.*s:9000 EHOSTUNREACH\n", (int)strcspn(mine, "\n"), mine);
	CHECKF(strstr(out, line) != NULL, "A (%s) was not among the refused", mine);
	CHECKF(strstr(mine, "\nnone\n") != NULL, "A: %s", mine);
	th_rep_fini(&a.rep);
	th_rep_fini(&b);
}

/* SANDBOX_EGRESS_MAX_CONNECTIONS=3: three held connections, the next
 * ones refused. */
static void connection_limit(void)
{
	static const char py[] =
		"import socket, errno\n"
		"held, out = [], []\n"
		"for i in range(5):\n"
		"    s = socket.socket(); s.settimeout(3)\n"
		"    try:\n"
		"        s.connect(('198.51.100.8', 7)); s.recv(100); held.append(s); "
		"out.append('OK')\n"
		"    except OSError as e: out.append(errno.errorcode.get(e.errno, 'TIMEOUT'))\n"
		"print(' '.join(out))\n";
	struct th_rep r = run_py(d.rpc, py, NULL, true);

	TH_CHECK_STATUS(r, SBX_OK);
	CHECK_STR(th_rep_str(&r, "stdout"), "OK OK OK EHOSTUNREACH EHOSTUNREACH\n");
	th_rep_fini(&r);
}

/* What a sandbox could spoof with: no capability, no raw socket; and
 * IPv6 is off in its namespace. */
static void containment(void)
{
	static const char py[] =
		"import socket\n"
		"caps = [l.split()[1] for l in open('/proc/self/status') if "
		"l.startswith('CapEff')]\n"
		"print('caps', caps[0])\n"
		"try:\n"
		"    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP); "
		"print('raw yes')\n"
		"except PermissionError: print('raw no')\n"
		"print('ipv6 off', "
		"open('/proc/sys/net/ipv6/conf/all/disable_ipv6').read().strip())\n"
		"print('resolv', open('/etc/resolv.conf').read().split('nameserver "
		"')[1].strip())\n";
	struct th_rep r = run_py(d.rpc, py, NULL, true);
	char want[160];

	TH_CHECK_STATUS(r, SBX_OK);
	snprintf(want, sizeof(want), "caps 0000000000000000\nraw no\nipv6 off 1\nresolv %s.1\n",
		 prefix3);
	CHECKF(strcmp(th_rep_str(&r, "stdout"), want) == 0, "got:\n%s", th_rep_str(&r, "stdout"));
	th_rep_fini(&r);
}

/* connect() from netns `ns` with source `src` (IP_TRANSPARENT) to 198.51.100.8:7
 * in a child: 0 when connected, else the errno (ETIMEDOUT after 2 s). */
static int connect_from(const char *ns, const char *src)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char path[64];
		struct sockaddr_in s = {.sin_family = AF_INET},
				   t = {.sin_family = AF_INET, .sin_port = htons(7)};
		struct timeval tv = {2, 0};
		int one = 1;
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			_exit(99);
		int so = socket(AF_INET, SOCK_STREAM, 0);
		inet_pton(AF_INET, src, &s.sin_addr);
		inet_pton(AF_INET, "198.51.100.8", &t.sin_addr);
		/* Transparent, not just free-bind: routes a foreign source. */
		setsockopt(so, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
		setsockopt(so, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (bind(so, (struct sockaddr *)&s, sizeof(s)) < 0)
			_exit(98);
		_exit(connect(so, (struct sockaddr *)&t, sizeof(t)) == 0 ? 0
		      : errno == EINPROGRESS				 ? ETIMEDOUT
									 : errno);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The firewall's source check, with a capability the sandboxes lack: a
 * namespace of the test's own behind an interface named like the
 * daemon's (so its rules apply) sends from its own address and from
 * another sandbox's. */
static void spoofed_source(void)
{
	char own[24], other[24];

	snprintf(spoof.ns, sizeof(spoof.ns), "wnet-spoof-%s", tag);
	snprintf(spoof.veth, sizeof(spoof.veth), "%.10s250", ifprefix);
	snprintf(spoof.host_cidr, sizeof(spoof.host_cidr), "%s.250/31", prefix3);
	snprintf(own, sizeof(own), "%s.251", prefix3);
	snprintf(other, sizeof(other), "%s.77", prefix3);
	spoof.addrs[0] = own;
	if (fakenet_up(&spoof) < 0) {
		CHECKF(false, "cannot make the spoofing namespace");
		return;
	}
	CHECK_INT(connect_from(spoof.ns, own), 0);
	CHECK_INT(connect_from(spoof.ns, other), ETIMEDOUT);
	fakenet_fini(&spoof);
}

/* NETWORK_MODE=none: an Execute asking for the network is refused with
 * the reason; NETWORK_MODE=host: sandboxd refuses to start, saying why. */
static void other_modes(void)
{
	struct th_daemon n;
	int st;

	th_daemon_init_in(&n, d.dir, "none");
	th_daemon_start(&n, (const char *const[]){"--network-mode", "none", NULL});
	th_daemon_up_or_skip(&n);
	struct th_rep r = run_py(n.rpc, "print(1)", NULL, true);
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "network access is off: NETWORK_MODE is none") != NULL, "%s", r.msg);
	th_rep_fini(&r);
	r = th_rpc(n.rpc, 30000, "CreateSession", "{\"network\": true}");
	TH_CHECK_STATUS(r, SBX_INVALID_ARGUMENT);
	CHECKF(strstr(r.msg, "network access is off: NETWORK_MODE is none") != NULL, "%s", r.msg);
	th_rep_fini(&r);
	th_daemon_stop(&n, 10000);

	th_daemon_init_in(&n, d.dir, "host");
	th_daemon_start(&n, (const char *const[]){"--network-mode", "host", NULL});
	CHECK(th_wait(n.pid, 10000, &st) == 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2);
	FILE *f = fopen(n.log, "re");
	char buf[2048] = "";
	if (f) {
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
		fclose(f);
	}
	CHECKF(strstr(buf, "NETWORK_MODE=host is refused: a sandbox in the host's network "
			   "namespace reaches the host's loopback services") != NULL,
	       "log: %s", buf);
}

/* `*`: every public address and every name, never a private address
 * (not even one a name resolves to) nor the host. A second daemon: its
 * own instance tag and subnet, as two daemons on one host need. */
static void star_policy(void)
{
	struct th_daemon s;
	char tag2[8], subnet2[24];

	snprintf(tag2, sizeof(tag2), "z%.3s", tag);
	snprintf(subnet2, sizeof(subnet2), "10.212.%u.0/24", (unsigned)getpid() % 250 + 1);
	th_daemon_init_in(&s, d.dir, "star");
	th_daemon_start(&s,
			(const char *const[]){"--network-mode", "bridge", "--net-instance", tag2,
					      "--bridge-subnet", subnet2, "--dns-upstream",
					      "198.51.100.8", "--egress-allow", "*", NULL});
	th_daemon_up_or_skip(&s);
	json_t *a = json_pack("[s,s,s,s,s]", "198.51.100.8:8", "ok.example.test:8",
			      "no.example.test:8", "10.214.0.2:81", "169.254.169.254:80");
	struct th_rep r = run_py(s.rpc, probe_py, a, true);
	TH_CHECK_STATUS(r, SBX_OK);
	const char *out = th_rep_str(&r, "stdout");
	expect_line(out, "198.51.100.8:8 OK hello 8 from 198.51.100.1");
	expect_line(out, "ok.example.test:8 OK hello 8 from 198.51.100.1");
	expect_line(out, "no.example.test:8 NORESOLVE");
	expect_line(out, "10.214.0.2:81 EHOSTUNREACH");
	expect_line(out, "169.254.169.254:80 EHOSTUNREACH");
	th_rep_fini(&r);
	CHECK(th_daemon_stop(&s, 20000) == 0);
}

/* What the daemon leaves on the host: its table, its DOCKER-USER rules,
 * interfaces named with its prefix. The kernel removes a dead sandbox's
 * namespace (and veth) asynchronously: wait for that up to 10 s. */
static int leftovers(bool want_table)
{
	char cmd[128], line[256];
	int tables = 0, rules = 0, links = 0;

	for (int i = 0; i < 100; i++) {
		struct if_nameindex *ifs = if_nameindex();
		links = 0;
		for (struct if_nameindex *p = ifs; p && p->if_index; p++)
			links += strncmp(p->if_name, ifprefix, strlen(ifprefix)) == 0;
		if_freenameindex(ifs);
		if (!links)
			break;
		th_sleep_ms(100);
	}
	snprintf(cmd, sizeof(cmd),
		 "nft list tables; nft list chain ip filter DOCKER-USER 2>/dev/null");
	FILE *p = popen(cmd, "r");
	while (p && fgets(line, sizeof(line), p)) {
		tables += strstr(line, "table inet ") && strstr(line, table) != NULL;
		rules += strstr(line, "comment") && strstr(line, table) != NULL;
	}
	if (p)
		pclose(p);
	CHECKF(links == 0, "%d interfaces %s* left", links, ifprefix);
	CHECKF(tables == (want_table ? 1 : 0), "%d tables %s", tables, table);
	return links + tables + rules;
}

static pid_t start_bridge(void)
{
	return th_daemon_start(
		&d,
		(const char *const[]){"--network-mode", "bridge", "--net-instance", tag,
				      "--bridge-subnet", subnet, "--dns-upstream", "198.51.100.8",
				      "--egress-max-connections", "3", "--egress-allow",
				      "198.51.100.8:7, ok.example.test:7, 10.214.0.2:81", NULL});
}

/* kill -9 in the middle of a networked execution, restart (the stale
 * table is replaced), stop cleanly: nothing left. */
static void no_rule_left_behind(void)
{
	struct bg a;
	int st;

	pthread_create(&a.t, NULL, bg_listen, &a);
	th_sleep_ms(1500);
	kill(d.pid, SIGKILL);
	th_wait(d.pid, 10000, &st);
	d.pid = 0;
	pthread_join(a.t, NULL);
	th_rep_fini(&a.rep);
	leftovers(true); /* the table outlives a kill; the sandbox's link does not */
	start_bridge();
	th_daemon_up_or_skip(&d);
	char *out = probe((const char *const[]){"198.51.100.8:7", NULL});
	expect_line(out, "198.51.100.8:7 OK hello 7 from 198.51.100.1");
	free(out);
	CHECK(th_daemon_stop(&d, 20000) == 0);
	CHECK(leftovers(false) == 0);
}

int main(void)
{
	if (!fakenet_possible())
		SKIP("needs root and iproute2's ip for the fake hosts\n");
	if (system("nft --version >/dev/null 2>&1") != 0)
		SKIP("needs nft (Debian's nftables) to list what is left on the host\n");
	/* Unique per run: two runs (or other daemons) never share names. */
	snprintf(tag, sizeof(tag), "%x", (unsigned)getpid() & 0xffff);
	snprintf(prefix3, sizeof(prefix3), "10.213.%u", (unsigned)getpid() % 250 + 1);
	snprintf(subnet, sizeof(subnet), "%s.0/24", prefix3);
	snprintf(ifprefix, sizeof(ifprefix), "sbx%s.", tag);
	snprintf(table, sizeof(table), "sandboxd_%s", tag);
	snprintf(inet.ns, sizeof(inet.ns), "wnet-inet-%s", tag);
	snprintf(inet.veth, sizeof(inet.veth), "wni%s", tag);
	snprintf(priv.ns, sizeof(priv.ns), "wnet-priv-%s", tag);
	snprintf(priv.veth, sizeof(priv.veth), "wnp%s", tag);
	atexit(cleanup);
	if (fakenet_up(&inet) < 0 || fakenet_up(&priv) < 0)
		SKIP("cannot make the fake hosts' namespaces and veths\n");
	if (th_daemon_init(&d, "sbx-net-bridge") < 0)
		return 1;
	start_bridge();
	th_daemon_up_or_skip(&d);

	policy();
	run_command();
	objects_ask();
	deployment_asks();
	no_neighbours();
	connection_limit();
	containment();
	spoofed_source();
	other_modes();
	star_policy();
	no_rule_left_behind();
	th_daemon_fini(&d);
	TEST_DONE();
}
