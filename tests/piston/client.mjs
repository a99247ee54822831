// piston-client 1.0.2 (npm), unmodified, against sandbox-gateway's Piston v2
// routes: runtimes(), execute(language, code) with the client's own defaults
// (the latest version it sees, args ["1", "2", "3"], run_timeout 3000,
// memory limits -1, no Content-Type), and execute with options.
// Usage: node client.mjs DIR SERVER, DIR holding node_modules/piston-client.
// Prints each failed check; exits 0 when all held, 1 otherwise.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, server] = process.argv.slice(2);
const entry = path.join(dir, 'node_modules', 'piston-client', 'index.js');
const { piston } = await import(pathToFileURL(entry).href);
let passed = 0;
let failed = 0;

function check(ok, what, got) {
	if (ok) {
		passed++;
		return;
	}
	failed++;
	console.log(`FAIL ${what}: got ${JSON.stringify(got)}`);
}

const client = piston({ server });
const runtimes = await client.runtimes();
check(Array.isArray(runtimes), 'runtimes() is an array', runtimes);
const python = (Array.isArray(runtimes) ? runtimes : []).find(r => r.language === 'python');
check(python && /^\d+\.\d+\.\d+$/.test(python.version) && Array.isArray(python.aliases),
	'python is listed with an x.y.z version and aliases', python);

// The client picks the version and sends args ["1", "2", "3"].
let r = await client.execute('python', 'import sys\nprint("hello", sys.argv[1:])');
check(r.language === 'python' && r.version === python?.version, 'language and version', r);
check(r.run && r.run.stdout === "hello ['1', '2', '3']\n" && r.run.stderr === '' &&
	r.run.output === r.run.stdout && r.run.code === 0 && r.run.signal === null &&
	r.run.status === null && r.run.message === null, 'a plain run', r.run);
check(r.compile === undefined, 'no compile stage for python', r.compile);

// Options: stdin, args, a version selector, a run timeout.
r = await client.execute('python', 'import sys\nprint(input()[::-1], sys.argv[1:])',
	{ stdin: 'abc', args: ['x y'], version: '3.x', runTimeout: 2000 });
check(r.run && r.run.stdout === "cba ['x y']\n", 'stdin, args and a selector', r);

// The options object alone, with several files.
r = await client.execute({ language: 'python', args: [],
	files: [{ name: 'main.py', content: 'print(open("data.txt").read())' },
		{ name: 'data.txt', content: 'from a file' }] });
check(r.run && r.run.stdout === 'from a file\n', 'files beside the program', r);

// A time limit, and a failing program.
r = await client.execute('python', 'import time\ntime.sleep(20)', { runTimeout: 300 });
check(r.run && r.run.status === 'TO' && r.run.signal === 'SIGKILL' && r.run.code === null,
	'run_timeout ends the run as TO', r.run);
r = await client.execute('python', 'raise SystemExit(4)');
check(r.run && r.run.status === 'RE' && r.run.code === 4, 'a non-zero exit is RE', r.run);

// Piston's errors come back as they are.
r = await client.execute('python', 'print(1)', { version: '9.x' });
check(r.message === 'python-9.x runtime is unknown', 'an unknown version', r);

console.log(`piston-client: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
