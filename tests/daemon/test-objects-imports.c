/* daemon/objects/imports.c, against imports.h, on real workspaces: every
 * import form (import/export ... from, import "x", import("x"),
 * require("x"), any quote), subpaths cut to the package, scoped packages,
 * what is left out (relative and absolute paths, #imports, node:/bun:
 * and bare built-ins, URLs, upper case, words that only end in "import"
 * or "require", unterminated strings), package.json's names (a quoted
 * mention, not a substring), which files and folders are read (extensions,
 * depth 3, node_modules, hidden, symlinks, 1 MiB), the 32-name and
 * 214-character bounds, and that no name can be read as an option by the
 * npm/bun command line it is passed to. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imports.h"
#include "testlib.h"

static char *root;
static int ws_count;

/* A fresh, empty workspace under root. */
static char *workspace(void)
{
	char *p;

	if (asprintf(&p, "%s/ws%d", root, ws_count++) < 0 || mkdir(p, 0700) < 0)
		abort();
	return p;
}

/* Write text to ws/rel, making the folders on the way. */
static void put(const char *ws, const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", ws, rel);
	for (char *s = path + strlen(ws) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(path, 0700);
		*s = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The missing names of ws, sorted and joined by spaces ("" for none);
 * "error N" when the call fails. */
static char *missing(const char *ws)
{
	static char out[16384];
	char **names = (char **)&out; /* must be replaced */
	size_t n = 99;
	int r = sbx_imports_missing(ws, &names, &n);

	if (r < 0) {
		snprintf(out, sizeof(out), "error %d", r);
		return out;
	}
	out[0] = 0;
	if (n)
		qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "",
			 names[i]);
	sbx_imports_free(names, n);
	return out;
}

#define CHECK_MISSING(ws, want)                                                                    \
	do {                                                                                       \
		const char *got_ = missing(ws);                                                    \
		const char *want_ = (want);                                                        \
		CHECK_STR(got_, want_);                                                            \
	} while (0)

static void test_forms(void)
{
	char *ws = workspace();

	put(ws, "index.js",
	    "import express from \"express\";\n"
	    "import { z } from 'zod'\n"
	    "import * as ns from\"lodash\";\n"
	    "import \"dotenv/config\";\n"
	    "import  'side-effect';\n"
	    "const a = await import(\"dyn-a\");\n"
	    "const b = await import ( 'dyn-b' );\n"
	    "const c = require(\"cjs-c\");\n"
	    "const d = require ('cjs-d');\n"
	    "const e = require(`tpl-e`);\n"
	    "export * from \"re-export\";\n"
	    "export { x } from 're-export-2';\n"
	    "import {\n  a,\n  b,\n} from \"multi-line\";\n"
	    "import express2 from \"express\"; // twice: once\n");
	CHECK_MISSING(ws, "cjs-c cjs-d dotenv dyn-a dyn-b express lodash multi-line re-export "
			  "re-export-2 side-effect tpl-e zod");
	free(ws);

	/* TypeScript forms, and the subpath and scope rules. */
	ws = workspace();
	put(ws, "src/app.ts",
	    "import type { Request } from \"@types/express\";\n"
	    "import fp from 'lodash/fp';\n"
	    "import { a } from '@scope/pkg/deep/path.js';\n"
	    "import b from '@scope/other';\n"
	    "import c from 'pkg.with.dots';\n"
	    "import d from 'under_score-and-1234';\n"
	    "import e = require('ts-equals');\n");
	CHECK_MISSING(ws, "@scope/other @scope/pkg @types/express lodash pkg.with.dots "
			  "ts-equals under_score-and-1234");
	free(ws);
}

static void test_left_out(void)
{
	char *ws = workspace();

	put(ws, "a.mjs",
	    "import x from './local.js';\n"
	    "import y from '../up';\n"
	    "import z from '/abs/path';\n"
	    "import w from '.';\n"
	    "import v from '#internal';\n"
	    "import fs from 'node:fs';\n"
	    "import { Database } from 'bun:sqlite';\n"
	    "import path from 'path';\n"
	    "import fsp from 'fs/promises';\n"
	    "import { setTimeout } from 'timers/promises';\n"
	    "import http2 from 'http2';\n"
	    "import w2 from 'worker_threads';\n"
	    "import bun from 'bun';\n"
	    "import React from 'React';\n"
	    "import esm from 'https://esm.sh/preact';\n"
	    "import s from '@scope';\n"
	    "import t from '@scope/';\n"
	    "import u from '@/components';\n"
	    "import q from '';\n"
	    "import sp from 'has space';\n"
	    "import uni from 'caf\xc3\xa9';\n"
	    "myrequire('not-a');\n"
	    "obj.require('not-b');\n"
	    "$import('not-c');\n"
	    "_require('not-d');\n"
	    "reimport('not-e');\n"
	    "x.from('not-f');\n"
	    "importer('not-g');\n"
	    "requirex('not-h');\n"
	    "require(name);\n"
	    "require('unterminated\n"
	    "');\n"
	    "require(\"mixed');\n"
	    "import q2 from 'okay'\n");
	CHECK_MISSING(ws, "okay");
	free(ws);
}

static void test_manifest(void)
{
	char *ws = workspace();

	put(ws, "package.json",
	    "{\n  \"name\": \"app\",\n"
	    "  \"dependencies\": { \"express\": \"^4.18.0\", \"@scope/pkg\": \"1\" },\n"
	    "  \"devDependencies\": { \"express-session\": \"1\" },\n"
	    "  \"description\": \"uses zod\"\n}\n");
	put(ws, "index.js",
	    "require('express');\n"
	    "require('@scope/pkg/sub');\n"
	    "require('session');\n" /* only part of "express-session" */
	    "require('express-session');\n"
	    "require('zod');\n"	  /* mentioned, but not as a quoted name */
	    "require('app');\n"); /* the package itself: its name is quoted */
	CHECK_MISSING(ws, "session zod");
	free(ws);

	/* A package.json that is not a file counts as none. */
	ws = workspace();
	put(ws, "package.json/x", "");
	put(ws, "index.js", "require('express');\n");
	CHECK_MISSING(ws, "express");
	free(ws);
}

static void test_files(void)
{
	char *ws = workspace();
	char path[4096];

	put(ws, "a.js", "require('e-js')");
	put(ws, "a.mjs", "require('e-mjs')");
	put(ws, "a.cjs", "require('e-cjs')");
	put(ws, "a.jsx", "require('e-jsx')");
	put(ws, "a.ts", "require('e-ts')");
	put(ws, "a.mts", "require('e-mts')");
	put(ws, "a.tsx", "require('e-tsx')");
	put(ws, "a.d.ts", "import 'e-dts'");
	put(ws, "a.json", "require('no-json')");
	put(ws, "a.py", "require('no-py')");
	put(ws, "a.JS", "require('no-upper-ext')");
	put(ws, "a.jsx.bak", "require('no-bak')");
	put(ws, "README.md", "import x from 'no-md'");
	put(ws, "js", "require('no-bare-name')");
	put(ws, ".js", "require('no-hidden-file')");
	put(ws, ".hidden/a.js", "require('no-hidden-dir')");
	put(ws, "node_modules/x/index.js", "require('no-node-modules')");
	put(ws, "lib/node_modules/y.js", "require('no-nested-node-modules')");
	put(ws, "d1/a.js", "require('depth-1')");
	put(ws, "d1/d2/a.js", "require('depth-2')");
	put(ws, "d1/d2/d3/a.js", "require('depth-3')");
	put(ws, "d1/d2/d3/d4/a.js", "require('no-depth-4')");
	/* Symlinks are not followed, to files or to folders. */
	put(ws, "../outside-imports.js", "require('no-symlink-file')");
	snprintf(path, sizeof(path), "%s/link.js", ws);
	CHECK(symlink("../outside-imports.js", path) == 0);
	put(ws, "../outside-dir/a.js", "require('no-symlink-dir')");
	snprintf(path, sizeof(path), "%s/linkdir", ws);
	CHECK(symlink("../outside-dir", path) == 0);
	/* A FIFO named like a source file neither blocks nor counts. */
	snprintf(path, sizeof(path), "%s/fifo.js", ws);
	CHECK(mkfifo(path, 0600) == 0);

	CHECK_MISSING(ws, "depth-1 depth-2 depth-3 e-cjs e-dts e-js e-jsx e-mjs e-mts e-ts "
			  "e-tsx");
	free(ws);

	/* 1 MiB is read, one byte more is not. */
	enum { MIB = 1 << 20 };
	char *big = malloc(MIB + 2);
	const char *imp = "require('at-the-end')";

	memset(big, ' ', MIB + 1);
	ws = workspace();
	memcpy(big + MIB - strlen(imp), imp, strlen(imp));
	big[MIB] = 0;
	put(ws, "exact.js", big);
	CHECK_MISSING(ws, "at-the-end");
	free(ws);
	ws = workspace();
	memcpy(big + MIB + 1 - strlen(imp), imp, strlen(imp));
	big[MIB + 1] = 0;
	put(ws, "over.js", big);
	CHECK_MISSING(ws, "");
	free(ws);
	free(big);

	/* No workspace, an empty one, a file where it should be. */
	CHECK_MISSING("/nonexistent/workspace", "");
	ws = workspace();
	CHECK_MISSING(ws, "");
	put(ws, "f", "");
	snprintf(path, sizeof(path), "%s/f", ws);
	CHECK_MISSING(path, "");
	free(ws);
}

static void test_bounds(void)
{
	char *ws = workspace();
	char *text = malloc(65536), name[300];
	char **names = NULL;
	size_t n = 0;

	/* 40 distinct packages in two files: 32 come back, each once. */
	text[0] = 0;
	for (int i = 0; i < 20; i++)
		snprintf(text + strlen(text), 65536 - strlen(text), "require('pkg-%02d');\n", i);
	put(ws, "a.js", text);
	text[0] = 0;
	for (int i = 20; i < 40; i++)
		snprintf(text + strlen(text), 65536 - strlen(text), "import 'pkg-%02d';\n", i);
	put(ws, "b.js", text);
	CHECK_INT(sbx_imports_missing(ws, &names, &n), 0);
	CHECK_INT(n, SBX_IMPORTS_MAX);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 1; i < n; i++)
		CHECKF(strcmp(names[i - 1], names[i]) != 0, "%s twice", names[i]);
	for (size_t i = 0; i < n; i++)
		CHECKF(strncmp(names[i], "pkg-", 4) == 0 && strlen(names[i]) == 6, "'%s'",
		       names[i]);
	sbx_imports_free(names, n);
	free(ws);
	sbx_imports_free(NULL, 0);

	/* npm's name limit: 214 characters, with the scope. */
	ws = workspace();
	memset(name, 'n', 214);
	name[214] = 0;
	snprintf(text, 65536, "require('%s');\n", name);
	put(ws, "ok.js", text);
	CHECK_MISSING(ws, name);
	free(ws);
	ws = workspace();
	memset(name, 'n', 215);
	name[215] = 0;
	snprintf(text, 65536, "require('%s');\nrequire('@s/%s');\n", name, name + 3);
	put(ws, "long.js", text);
	CHECK_MISSING(ws, "");
	free(ws);
	ws = workspace();
	name[0] = '@';
	name[1] = 's';
	name[2] = '/';
	name[214] = 0;
	snprintf(text, 65536, "require('%s/deep');\n", name);
	put(ws, "scoped.js", text);
	CHECK_MISSING(ws, name);
	free(ws);
	free(text);
}

/* The names go to `npm install ... "$@"` and `bun add "$@"`: one that
 * starts with '-' would be taken as an option there (--global,
 * --prefix, -D). No package a program can load is named like that. */
static void test_no_options(void)
{
	char *ws = workspace();

	put(ws, "index.js",
	    "require('--global');\n"
	    "require('-g');\n"
	    "import x from '--prefix';\n"
	    "import y from '-';\n"
	    "require('ok-pkg');\n");
	CHECK_MISSING(ws, "ok-pkg");
	free(ws);
}

int main(void)
{
	root = tl_tmpdir("sbx-imports");
	if (!root)
		SKIP("no temporary directory");
	test_forms();
	test_left_out();
	test_manifest();
	test_files();
	test_bounds();
	test_no_options();
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", root);
	}
	free(root);
	TEST_DONE();
}
