/* The runtimes table (runtimes.h): one row per language, its Debian
 * package, how its code is compiled and run, and what its toolchain needs
 * inside a sandbox. The package is also written in scripts/deps.sh, which
 * installs it before anything is built; test-exec-runtimes checks that the
 * two agree. Versions are whatever the package brings: the row asks the
 * binary, never states one. */
#include "runtimes.h"

#include "cleanup.h"

/* Compilers need more than the programs they build: a native toolchain
 * (gcc's cc1/as/collect2/ld, rustc's threads), and a JVM compiler (kotlinc,
 * scalac start slowly and use many threads and jars). */
#define COMPILE_NATIVE                                                                             \
	{                                                                                          \
		.cpu_time_ms = 60000, .wall_time_ms = 60000, .memory_kb = 2u << 20, .pids = 256,   \
		.fsize_kb = 1u << 20, .nofile = 1024                                               \
	}
#define COMPILE_JVM                                                                                \
	{                                                                                          \
		.cpu_time_ms = 180000, .wall_time_ms = 120000, .memory_kb = 2u << 20, .pids = 512, \
		.fsize_kb = 1u << 20, .nofile = 4096                                               \
	}
/* Virtual machines that do not start under the default run limits: a JVM
 * takes a heap and a dozen threads before main, opens its jars; the BEAM
 * starts a scheduler per core plus dirty and async threads; mono its GC
 * and finalizer threads. */
#define FLOOR_JVM                                                                                  \
	{                                                                                          \
		.memory_kb = 1u << 20, .pids = 256, .nofile = 1024                                 \
	}
#define FLOOR_VM                                                                                   \
	{                                                                                          \
		.memory_kb = 512u << 10, .pids = 256, .nofile = 1024                               \
	}
/* The BEAM rows run with SIGXFSZ ignored. OTP 25's JIT first maps
 * its code twice through memfds of 8 and then 16 MiB (asmjit's
 * dual mapping: ftruncate(memfd, 8388608) under strace), past a
 * Judge0 max_file_size of 1024 KB; the signal killed the BEAM before
 * main. Ignored, the ftruncate fails with EFBIG, the JIT falls back to
 * single-mapped code (what OTP 26's +JMsingle true asks for; OTP 25
 * has no flag for it) and a program's write past the limit still
 * fails (EFBIG: {error,efbig}, File.Error), enforced by the kernel. */
#define BEAM_RUN(cmd)                                                                              \
	{                                                                                          \
		"/bin/sh", "-c", "trap '' XFSZ; exec " cmd " \"$@\"", "sh"                         \
	}
/* The JVM's configuration: /usr/lib/jvm/.../conf links into /etc. */
#define JVM_BINDS                                                                                  \
	{                                                                                          \
		"/etc/java-17-openjdk"                                                             \
	}
/* One GC thread and no /tmp/hsperfdata: lighter in a small sandbox. */
#define JVM_FLAGS "-XX:+UseSerialGC", "-XX:-UsePerfData"

const struct sbx_runtime sbx_runtime_table[] = {
	{.name = "python",
	 .aliases = {"python3", "py"},
	 .package = "python3",
	 .source = "main.py",
	 .probe = "/usr/bin/python3",
	 .version = {"/usr/bin/python3", "--version"},
	 .run = {"/usr/bin/python3", "-u", "main.py"}},
	{.name = "node",
	 .aliases = {"javascript", "js", "nodejs"},
	 .package = "nodejs",
	 .source = "main.js",
	 .probe = "/usr/bin/node",
	 .version = {"/usr/bin/node", "--version"},
	 .run = {"/usr/bin/node", "main.js"}},
	{.name = "bun",
	 .source = "index.ts",
	 .probe = "/usr/bin/bun",
	 .version = {"/usr/bin/bun", "--version"},
	 .run = {"/usr/bin/bun", "run", "index.ts"}},
	{.name = "typescript",
	 .aliases = {"ts"},
	 .source = "main.ts",
	 .probe = "/usr/bin/bun",
	 .version = {"/usr/bin/bun", "--version"},
	 .run = {"/usr/bin/bun", "run", "main.ts"}},
	{.name = "typescript",
	 .aliases = {"ts"},
	 .source = "main.ts",
	 .probe = "/usr/bin/tsx",
	 .version = {"/usr/bin/tsx", "--version"},
	 .run = {"/usr/bin/tsx", "main.ts"}},
	{.name = "shell",
	 .aliases = {"bash", "sh"},
	 .package = "bash",
	 .source = "main.sh",
	 .probe = "/bin/bash",
	 .version = {"/bin/bash", "--version"},
	 .run = {"/bin/bash", "main.sh"}},
	/* Judge0's "Multi-file program" (its language 89): a project in the
	 * workspace (the request's files) whose `run` script, the source, runs
	 * with bash after its optional `compile` script, which gets the
	 * compiler options. A run script that does not parse fails the
	 * compile, as a compiler would. */
	{.name = "multifile",
	 .aliases = {"multi-file", "project"},
	 .package = "bash",
	 .source = "run",
	 .probe = "/bin/bash",
	 .version = {"/bin/bash", "--version"},
	 .compile = {"/bin/sh", "-c",
		     "/bin/bash -n run && if [ -e compile ]; then exec /bin/bash compile \"$@\"; fi",
		     "compile"},
	 .run = {"/bin/bash", "run"},
	 .compile_limits = COMPILE_NATIVE,
	 .compile_options_last = true},
	{.name = "rust",
	 .aliases = {"rs"},
	 .package = "rustc",
	 .source = "main.rs",
	 .probe = "/usr/bin/rustc",
	 .version = {"/usr/bin/rustc", "--version"},
	 .compile = {"/usr/bin/rustc", "-C", "opt-level=1", "-o", "main", "main.rs"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	{.name = "c",
	 .aliases = {"gcc"},
	 .package = "gcc",
	 .source = "main.c",
	 .probe = "/usr/bin/gcc",
	 .version = {"/usr/bin/gcc", "--version"},
	 .compile = {"/usr/bin/gcc", "-O2", "-std=gnu17", "-o", "main", "main.c", "-lm"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	{.name = "cpp",
	 .aliases = {"c++", "cplusplus", "cxx", "g++"},
	 .package = "g++",
	 .source = "main.cpp",
	 .probe = "/usr/bin/g++",
	 .version = {"/usr/bin/g++", "--version"},
	 .compile = {"/usr/bin/g++", "-O2", "-std=gnu++17", "-o", "main", "main.cpp", "-lm"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	/* Judge0's convention: the class is Main, in Main.java. */
	{.name = "java",
	 .package = "default-jdk-headless",
	 .source = "Main.java",
	 .probe = "/usr/bin/javac",
	 .version = {"/usr/bin/javac", "-version"},
	 .compile = {"/usr/bin/javac", "-J-XX:+UseSerialGC", "-J-XX:-UsePerfData", "-encoding",
		     "UTF-8", "Main.java"},
	 .run = {"/usr/bin/java", JVM_FLAGS, "-cp", ".", "Main"},
	 .compile_limits = COMPILE_JVM,
	 .run_floor = FLOOR_JVM,
	 .binds = JVM_BINDS},
	/* GOPATH and the build cache in the sandbox's /tmp; one file builds
	 * outside any module. */
	{.name = "go",
	 .aliases = {"golang"},
	 .package = "golang-go",
	 .source = "main.go",
	 .probe = "/usr/bin/go",
	 .version = {"/usr/bin/go", "version"},
	 .compile = {"/usr/bin/go", "build", "-o", "main", "main.go"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE,
	 .env = {"GOCACHE=/tmp/go-cache", "GOPATH=/tmp/go", "GO111MODULE=off",
		 "GOTOOLCHAIN=local"}},
	{.name = "ruby",
	 .aliases = {"rb"},
	 .package = "ruby",
	 .source = "main.rb",
	 .probe = "/usr/bin/ruby",
	 .version = {"/usr/bin/ruby", "--version"},
	 .run = {"/usr/bin/ruby", "main.rb"}},
	/* php.ini and the list of enabled extensions live in /etc/php. */
	{.name = "php",
	 .package = "php-cli",
	 .source = "main.php",
	 .probe = "/usr/bin/php",
	 .version = {"/usr/bin/php", "--version"},
	 .run = {"/usr/bin/php", "main.php"},
	 .binds = {"/etc/php"}},
	/* perl --version starts with an empty line. */
	{.name = "perl",
	 .aliases = {"pl"},
	 .package = "perl",
	 .source = "main.pl",
	 .probe = "/usr/bin/perl",
	 .version = {"/usr/bin/perl", "-e", "printf \"perl %vd\\n\", $^V"},
	 .run = {"/usr/bin/perl", "main.pl"}},
	{.name = "lua",
	 .package = "lua5.4",
	 .source = "main.lua",
	 .probe = "/usr/bin/lua5.4",
	 .version = {"/usr/bin/lua5.4", "-v"},
	 .run = {"/usr/bin/lua5.4", "main.lua"}},
	{.name = "csharp",
	 .aliases = {"c#", "cs", "mono"},
	 .package = "mono-mcs",
	 .source = "main.cs",
	 .probe = "/usr/bin/mcs",
	 .version = {"/usr/bin/mcs", "--version"},
	 .compile = {"/usr/bin/mcs", "-optimize+", "-out:main.exe", "main.cs"},
	 .run = {"/usr/bin/mono", "main.exe"},
	 .compile_limits = COMPILE_NATIVE,
	 .run_floor = FLOOR_VM,
	 .binds = {"/etc/mono"}},
	{.name = "kotlin",
	 .aliases = {"kt"},
	 .package = "kotlin",
	 .source = "main.kt",
	 .probe = "/usr/bin/kotlinc",
	 /* kotlinc warns about a JVM flag first: its "info:" line. */
	 .version = {"/bin/sh", "-c", "/usr/bin/kotlinc -version 2>&1 | sed -n 's/^info: //p'"},
	 .compile = {"/usr/bin/kotlinc", "-nowarn", "-d", ".", "main.kt"},
	 /* The JVM itself, not the kotlin script: a limit's signal is then
	  * the program's own, not a wrapper shell's exit status. */
	 .run = {"/usr/bin/java", JVM_FLAGS, "-cp",
		 "/usr/share/kotlin/kotlinc/lib/kotlin-stdlib.jar:.", "MainKt"},
	 .compile_limits = COMPILE_JVM,
	 .run_floor = FLOOR_JVM,
	 .binds = JVM_BINDS},
	/* The program is `object Main`. */
	{.name = "scala",
	 .package = "scala",
	 .source = "main.scala",
	 .probe = "/usr/bin/scalac",
	 .version = {"/usr/bin/scalac", "-version"},
	 .compile = {"/usr/bin/scalac", "-nowarn", "-d", ".", "main.scala"},
	 .run = {"/usr/bin/java", JVM_FLAGS, "-cp", "/usr/share/scala-2.11/lib/scala-library.jar:.",
		 "Main"},
	 .compile_limits = COMPILE_JVM,
	 .run_floor = FLOOR_JVM,
	 .binds = JVM_BINDS},
	/* ghc's package database: /usr/lib/ghc/package.conf.d links there. */
	{.name = "haskell",
	 .aliases = {"hs", "ghc"},
	 .package = "ghc",
	 .source = "main.hs",
	 .probe = "/usr/bin/ghc",
	 .version = {"/usr/bin/ghc", "--version"},
	 .compile = {"/usr/bin/ghc", "-O", "-o", "main", "main.hs"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE,
	 .binds = {"/var/lib/ghc"}},
	{.name = "ocaml",
	 .aliases = {"ml"},
	 .package = "ocaml-nox",
	 .source = "main.ml",
	 .probe = "/usr/bin/ocamlopt",
	 .version = {"/usr/bin/ocamlopt", "-version"},
	 .compile = {"/usr/bin/ocamlopt", "-o", "main", "main.ml"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	{.name = "fortran",
	 .aliases = {"f90", "gfortran"},
	 .package = "gfortran",
	 .source = "main.f90",
	 .probe = "/usr/bin/gfortran",
	 .version = {"/usr/bin/gfortran", "--version"},
	 .compile = {"/usr/bin/gfortran", "-O2", "-o", "main", "main.f90"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	/* fpc reads its unit paths from /etc/fpc.cfg (an alternatives link,
	 * followed by the bind). */
	{.name = "pascal",
	 .aliases = {"fpc", "freepascal", "pas"},
	 .package = "fp-compiler",
	 .source = "main.pas",
	 .probe = "/usr/bin/fpc",
	 .version = {"/usr/bin/fpc", "-iV"},
	 .compile = {"/usr/bin/fpc", "-O2", "-v0", "-omain", "main.pas"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE,
	 .binds = {"/etc/fpc.cfg"}},
	/* Free format, as Judge0 compiles it; cobc and libcob read their
	 * dialect and runtime configuration from /etc/gnucobol. */
	{.name = "cobol",
	 .aliases = {"cob", "gnucobol"},
	 .package = "gnucobol3",
	 .source = "main.cob",
	 .probe = "/usr/bin/cobc",
	 .version = {"/usr/bin/cobc", "--version"},
	 .compile = {"/usr/bin/cobc", "-free", "-x", "-O2", "-o", "main", "main.cob"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE,
	 .binds = {"/etc/gnucobol"}},
	/* The main procedure is Main, in main.adb. */
	{.name = "ada",
	 .aliases = {"gnat", "adb"},
	 .package = "gnat",
	 .source = "main.adb",
	 .probe = "/usr/bin/gnatmake",
	 .version = {"/usr/bin/gnatmake", "--version"},
	 .compile = {"/usr/bin/gnatmake", "-q", "-O2", "-o", "main", "main.adb"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	{.name = "d",
	 .aliases = {"dlang", "gdc"},
	 .package = "gdc",
	 .source = "main.d",
	 .probe = "/usr/bin/gdc",
	 .version = {"/usr/bin/gdc", "--version"},
	 .compile = {"/usr/bin/gdc", "-O2", "-o", "main", "main.d"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE},
	/* R_HOME/etc links into /etc/R (Renviron, ldpaths). */
	{.name = "r",
	 .aliases = {"rscript"},
	 .package = "r-base-core",
	 .source = "main.r",
	 .probe = "/usr/bin/Rscript",
	 .version = {"/usr/bin/Rscript", "--version"},
	 .run = {"/usr/bin/Rscript", "main.r"},
	 .binds = {"/etc/R"}},
	/* elixir --version prints the Erlang banner first. */
	{.name = "elixir",
	 .aliases = {"exs", "ex"},
	 .package = "elixir",
	 .source = "main.exs",
	 .probe = "/usr/bin/elixir",
	 .version = {"/usr/bin/elixir", "-e", "IO.puts(\"Elixir \" <> System.version())"},
	 .run = BEAM_RUN("/usr/bin/elixir main.exs"),
	 .run_floor = FLOOR_VM},
	/* The module is main and exports main/0; a request's args come after
	 * -extra (init:get_plain_arguments/0). erl -version would give the
	 * emulator's version, not OTP's. */
	{.name = "erlang",
	 .aliases = {"erl"},
	 .package = "erlang-nox",
	 .source = "main.erl",
	 .probe = "/usr/bin/erlc",
	 .version = {"/usr/bin/erl", "-noshell", "-eval",
		     "io:format(\"Erlang/OTP ~s~n\", [erlang:system_info(otp_release)]), halt()."},
	 .compile = {"/usr/bin/erlc", "main.erl"},
	 .run = BEAM_RUN("/usr/bin/erl -noshell -s main main -s init stop -extra"),
	 .compile_limits = COMPILE_NATIVE,
	 .run_floor = FLOOR_VM},
	{.name = "clojure",
	 .aliases = {"clj"},
	 .package = "clojure",
	 .source = "main.clj",
	 .probe = "/usr/bin/clojure",
	 .version = {"/usr/bin/clojure", "-e", "(println (str \"Clojure \" (clojure-version)))"},
	 .run = {"/usr/bin/clojure", "main.clj"},
	 .run_floor = FLOOR_JVM,
	 .binds = JVM_BINDS},
	{.name = "lisp",
	 .aliases = {"commonlisp", "common-lisp", "sbcl", "cl"},
	 .package = "sbcl",
	 .source = "main.lisp",
	 .probe = "/usr/bin/sbcl",
	 .version = {"/usr/bin/sbcl", "--version"},
	 .run = {"/usr/bin/sbcl", "--script", "main.lisp"}},
	/* The program runs its goals with `:- initialization(main).`; an
	 * error while loading or running ends it with status 1. */
	{.name = "prolog",
	 .aliases = {"swipl", "swi-prolog"},
	 .package = "swi-prolog-nox",
	 .source = "main.pl",
	 .probe = "/usr/bin/swipl",
	 .version = {"/usr/bin/swipl", "--version"},
	 .run = {"/usr/bin/swipl", "--on-error=halt", "-t", "halt", "main.pl"}},
	/* tclsh has no version flag: it reads a script. */
	{.name = "tcl",
	 .aliases = {"tclsh"},
	 .package = "tcl",
	 .source = "main.tcl",
	 .probe = "/usr/bin/tclsh",
	 .version = {"/bin/sh", "-c", "echo 'puts \"Tcl [info patchlevel]\"' | /usr/bin/tclsh"},
	 .run = {"/usr/bin/tclsh", "main.tcl"}},
	/* x86-64 Linux, no libc: _start and syscalls. Two tools, so a
	 * shell runs them; compiler options are nasm's (Judge0's nasmld). */
	{.name = "asm",
	 .aliases = {"nasm", "assembly"},
	 .package = "nasm",
	 .source = "main.asm",
	 .probe = "/usr/bin/nasm",
	 .version = {"/usr/bin/nasm", "-v"},
	 .compile = {"/bin/sh", "-c",
		     "/usr/bin/nasm -f elf64 \"$@\" -o main.o main.asm && /usr/bin/ld -o main main.o",
		     "nasm"},
	 .run = {"./main"},
	 .compile_limits = COMPILE_NATIVE,
	 .compile_options_last = true},
	/* The script runs against an empty in-memory database; -bail stops
	 * at the first error with status 1. */
	{.name = "sql",
	 .aliases = {"sqlite", "sqlite3"},
	 .package = "sqlite3",
	 .source = "main.sql",
	 .probe = "/usr/bin/sqlite3",
	 .version = {"/usr/bin/sqlite3", "--version"},
	 .run = {"/usr/bin/sqlite3", "-bail", "-batch", ":memory:", ".read main.sql"}},
};

const size_t sbx_runtime_table_len = SBX_ARRAY_SIZE(sbx_runtime_table);
