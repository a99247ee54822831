/* The programs of snippets.h, one row per language of the runtimes table. */
#include "snippets.h"

#include <string.h>

/* Several languages' programs share a frame around a body. */
#define C_MAIN(body) "#include <stdio.h>\n#include <stdlib.h>\nint main(void)\n{\n" body "}\n"
#define CPP_MAIN(body)                                                                             \
	"#include <cstdlib>\n#include <iostream>\n#include <string>\nint main()\n{\n" body "}\n"
#define JAVA_MAIN(body)                                                                            \
	"import java.io.*;\n\npublic class Main {\n"                                               \
	"\tpublic static void main(String[] args) throws Exception {\n" body "\t}\n}\n"
#define GO_MAIN(imports, body)                                                                     \
	"package main\n\nimport (\n" imports ")\n\nfunc main() {\n" body "}\n"
#define CS_MAIN(body) "using System;\n\nclass Program {\n\tstatic void Main() {\n" body "\t}\n}\n"
#define SCALA_MAIN(body)                                                                           \
	"object Main {\n\tdef main(args: Array[String]): Unit = {\n" body "\t}\n}\n"
#define PAS_MAIN(decl, body) "program Main;\n" decl "begin\n" body "end.\n"
#define COB_MAIN(data, body)                                                                       \
	"IDENTIFICATION DIVISION.\nPROGRAM-ID. MAIN.\n" data "PROCEDURE DIVISION.\n" body          \
	"    STOP RUN.\n"
#define ADA_MAIN(with, decl, body)                                                                 \
	"with Ada.Text_IO; use Ada.Text_IO;\n" with "procedure Main is\n" decl "begin\n" body      \
	"end Main;\n"
#define ERL_MAIN(body) "-module(main).\n-export([main/0]).\n\n" body
#define PROLOG_MAIN(body) ":- initialization(main).\n\n" body
#define ASM_MAIN(data, body)                                                                       \
	"section .data\n" data "section .bss\nbuf resb 256\nsection .text\nglobal _start\n"        \
	"_start:\n" body
#define ASM_EXIT(code) "\tmov rax, 60\n\tmov rdi, " code "\n\tsyscall\n"

/* bash programs: the shell row's, and the multifile row's run script. */
#define BASH_SNIPPETS                                                                              \
	.hello = "echo \"Hello, World!\"\n", .echo = "read -r line\necho \"$line\"\n",             \
	.compile_error = "if then fi\n", .runtime_error = "exit 3\n",                              \
	.loop = "while :; do :; done\n", .exit_code = 3

const struct sbx_lang_snippets sbx_lang_snippets[] = {
	{.language = "python",
	 .hello = "print(\"Hello, World!\")\n",
	 .echo = "print(input())\n",
	 .compile_error = "print(1 +\n",
	 .runtime_error = "import sys\nsys.exit(3)\n",
	 .loop = "while True:\n    pass\n",
	 .exit_code = 3},
	{.language = "node",
	 .hello = "console.log(\"Hello, World!\");\n",
	 .echo = "const s = require(\"fs\").readFileSync(0, \"utf8\");\n"
		 "console.log(s.split(\"\\n\")[0]);\n",
	 .compile_error = "let x = ;\n",
	 .runtime_error = "process.exit(3);\n",
	 .loop = "for (;;) {}\n",
	 .exit_code = 3},
	{.language = "bun",
	 .hello = "console.log(\"Hello, World!\");\n",
	 .echo = "import { readFileSync } from \"fs\";\n"
		 "const s: string = readFileSync(0, "
		 "\"utf8\");\nconsole.log(s.split(\"\\n\")[0]);\n",
	 .compile_error = "let x: number = ;\n",
	 .runtime_error = "process.exit(3);\n",
	 .loop = "for (;;) {}\n",
	 .exit_code = 3},
	{.language = "typescript",
	 .hello = "const s: string = \"Hello, World!\";\nconsole.log(s);\n",
	 .echo = "import { readFileSync } from \"fs\";\n"
		 "const s: string = readFileSync(0, "
		 "\"utf8\");\nconsole.log(s.split(\"\\n\")[0]);\n",
	 .compile_error = "let x: number = ;\n",
	 .runtime_error = "process.exit(3);\n",
	 .loop = "for (;;) {}\n",
	 .exit_code = 3},
	{.language = "shell", BASH_SNIPPETS},
	/* The run script; bash -n is its compile step. */
	{.language = "multifile", BASH_SNIPPETS},
	{.language = "rust",
	 .hello = "fn main() {\n    println!(\"Hello, World!\");\n}\n",
	 .echo = "fn main() {\n    let mut s = String::new();\n"
		 "    std::io::stdin().read_line(&mut s).unwrap();\n    print!(\"{}\", s);\n}\n",
	 .compile_error = "fn main() {\n    let x: i32 = \"s\";\n}\n",
	 .runtime_error = "fn main() {\n    std::process::exit(3);\n}\n",
	 .loop = "fn main() {\n    loop {}\n}\n",
	 .exit_code = 3},
	{.language = "c",
	 .hello = C_MAIN("\tputs(\"Hello, World!\");\n\treturn 0;\n"),
	 .echo = C_MAIN("\tchar b[256];\n\tif (fgets(b, sizeof(b), stdin))\n"
			"\t\tfputs(b, stdout);\n\treturn 0;\n"),
	 .compile_error = C_MAIN("\treturn undeclared;\n"),
	 .runtime_error = C_MAIN("\texit(3);\n"),
	 .loop = C_MAIN("\tvolatile unsigned long i = 0;\n\tfor (;;)\n\t\ti++;\n"),
	 .exit_code = 3},
	{.language = "cpp",
	 .hello = CPP_MAIN("\tstd::cout << \"Hello, World!\" << std::endl;\n"),
	 .echo = CPP_MAIN("\tstd::string s;\n\tstd::getline(std::cin, s);\n"
			  "\tstd::cout << s << \"\\n\";\n"),
	 .compile_error = CPP_MAIN("\tstd::string s = 1.5;\n"),
	 .runtime_error = CPP_MAIN("\tstd::exit(3);\n"),
	 .loop = CPP_MAIN("\tvolatile unsigned long i = 0;\n\tfor (;;)\n\t\ti++;\n"),
	 .exit_code = 3},
	{.language = "java",
	 .hello = JAVA_MAIN("\t\tSystem.out.println(\"Hello, World!\");\n"),
	 .echo = JAVA_MAIN("\t\tBufferedReader r = new BufferedReader(new "
			   "InputStreamReader(System.in));\n"
			   "\t\tSystem.out.println(r.readLine());\n"),
	 .compile_error = JAVA_MAIN("\t\tint x = \"s\";\n"),
	 .runtime_error = JAVA_MAIN("\t\tSystem.exit(3);\n"),
	 .loop = JAVA_MAIN("\t\twhile (true) {\n\t\t}\n"),
	 .exit_code = 3},
	{.language = "go",
	 .hello = GO_MAIN("\t\"fmt\"\n", "\tfmt.Println(\"Hello, World!\")\n"),
	 .echo = GO_MAIN("\t\"bufio\"\n\t\"fmt\"\n\t\"os\"\n",
			 "\ts, _ := bufio.NewReader(os.Stdin).ReadString('\\n')\n\tfmt.Print(s)\n"),
	 .compile_error = GO_MAIN("\t\"fmt\"\n", "\tfmt.Println(undeclared)\n"),
	 .runtime_error = GO_MAIN("\t\"os\"\n", "\tos.Exit(3)\n"),
	 .loop = GO_MAIN("", "\tfor {\n\t}\n"),
	 .exit_code = 3},
	{.language = "ruby",
	 .hello = "puts \"Hello, World!\"\n",
	 .echo = "puts gets\n",
	 .compile_error = "puts(1 +\n",
	 .runtime_error = "exit 3\n",
	 .loop = "loop do\nend\n",
	 .exit_code = 3},
	{.language = "php",
	 .hello = "<?php\necho \"Hello, World!\\n\";\n",
	 .echo = "<?php\necho fgets(STDIN);\n",
	 .compile_error = "<?php\necho 1 +;\n",
	 .runtime_error = "<?php\nexit(3);\n",
	 .loop = "<?php\nwhile (true) {\n}\n",
	 .exit_code = 3},
	{.language = "perl",
	 .hello = "print \"Hello, World!\\n\";\n",
	 .echo = "print scalar <STDIN>;\n",
	 .compile_error = "print 1 +;\n",
	 .runtime_error = "exit 3;\n",
	 .loop = "1 while 1;\n",
	 .exit_code = 3},
	{.language = "lua",
	 .hello = "print(\"Hello, World!\")\n",
	 .echo = "print(io.read(\"l\"))\n",
	 .compile_error = "print(1 +\n",
	 .runtime_error = "os.exit(3)\n",
	 .loop = "while true do\nend\n",
	 .exit_code = 3},
	{.language = "csharp",
	 .hello = CS_MAIN("\t\tConsole.WriteLine(\"Hello, World!\");\n"),
	 .echo = CS_MAIN("\t\tConsole.WriteLine(Console.ReadLine());\n"),
	 .compile_error = CS_MAIN("\t\tint x = \"s\";\n"),
	 .runtime_error = CS_MAIN("\t\tEnvironment.Exit(3);\n"),
	 .loop = CS_MAIN("\t\twhile (true) {\n\t\t}\n"),
	 .exit_code = 3},
	{.language = "kotlin",
	 .hello = "fun main() {\n    println(\"Hello, World!\")\n}\n",
	 .echo = "fun main() {\n    println(readLine())\n}\n",
	 .compile_error = "fun main() {\n    val x: Int = \"s\"\n}\n",
	 .runtime_error = "fun main() {\n    kotlin.system.exitProcess(3)\n}\n",
	 .loop = "fun main() {\n    while (true) {\n    }\n}\n",
	 .exit_code = 3},
	{.language = "scala",
	 .hello = SCALA_MAIN("\t\tprintln(\"Hello, World!\")\n"),
	 .echo = SCALA_MAIN("\t\tprintln(scala.io.StdIn.readLine())\n"),
	 .compile_error = SCALA_MAIN("\t\tval x: Int = \"s\"\n"),
	 .runtime_error = SCALA_MAIN("\t\tsys.exit(3)\n"),
	 .loop = SCALA_MAIN("\t\twhile (true) {\n\t\t}\n"),
	 .exit_code = 3},
	{.language = "haskell",
	 .hello = "main :: IO ()\nmain = putStrLn \"Hello, World!\"\n",
	 .echo = "main :: IO ()\nmain = getLine >>= putStrLn\n",
	 .compile_error = "main :: IO ()\nmain = putStrLn (1 :: Int)\n",
	 .runtime_error = "import System.Exit\n\nmain :: IO ()\nmain = exitWith (ExitFailure 3)\n",
	 .loop = "loop :: Int -> Int\nloop n = if n < 0 then n else loop (n + 1)\n\n"
		 "main :: IO ()\nmain = print (loop 0)\n",
	 .exit_code = 3},
	{.language = "ocaml",
	 .hello = "let () = print_endline \"Hello, World!\"\n",
	 .echo = "let () = print_endline (read_line ())\n",
	 .compile_error = "let () = print_endline 1\n",
	 .runtime_error = "let () = exit 3\n",
	 .loop = "let () = while true do () done\n",
	 .exit_code = 3},
	{.language = "fortran",
	 .hello = "program main\n  print '(a)', 'Hello, World!'\nend program main\n",
	 .echo = "program main\n  character(len=256) :: s\n  read (*, '(a)') s\n"
		 "  print '(a)', trim(s)\nend program main\n",
	 .compile_error = "program main\n  integer :: x\n  x = 'text'\nend program main\n",
	 .runtime_error = "program main\n  call exit(3)\nend program main\n",
	 .loop = "program main\n  integer, volatile :: i\n  i = 0\n  do\n    i = i + 1\n"
		 "  end do\nend program main\n",
	 .exit_code = 3},
	{.language = "pascal",
	 .hello = PAS_MAIN("", "  writeln('Hello, World!');\n"),
	 .echo = PAS_MAIN("var s: string;\n", "  readln(s);\n  writeln(s);\n"),
	 .compile_error = PAS_MAIN("", "  undeclared := 1;\n"),
	 .runtime_error = PAS_MAIN("", "  halt(3);\n"),
	 .loop = PAS_MAIN("var i: longint;\n", "  i := 0;\n  while true do\n    inc(i);\n"),
	 .exit_code = 3},
	{.language = "cobol",
	 .hello = COB_MAIN("", "    DISPLAY \"Hello, World!\".\n"),
	 .echo = COB_MAIN("DATA DIVISION.\nWORKING-STORAGE SECTION.\n01 LINE-IN PIC X(80).\n",
			  "    ACCEPT LINE-IN.\n    DISPLAY FUNCTION TRIM(LINE-IN).\n"),
	 .compile_error = COB_MAIN("", "    DISPLAY NO-SUCH-ITEM.\n"),
	 .runtime_error = COB_MAIN("", "    MOVE 3 TO RETURN-CODE.\n"),
	 .loop = COB_MAIN("DATA DIVISION.\nWORKING-STORAGE SECTION.\n01 N PIC 9(9) VALUE 0.\n",
			  "    PERFORM UNTIL N > 999999999\n        MOVE 1 TO N\n"
			  "    END-PERFORM.\n"),
	 .exit_code = 3},
	{.language = "ada",
	 .hello = ADA_MAIN("", "", "   Put_Line (\"Hello, World!\");\n"),
	 .echo = ADA_MAIN("", "", "   Put_Line (Get_Line);\n"),
	 .compile_error = ADA_MAIN("", "   X : Integer := \"s\";\n", "   Put_Line (X);\n"),
	 .runtime_error = ADA_MAIN("with Ada.Command_Line;\n", "",
				   "   Ada.Command_Line.Set_Exit_Status (3);\n"),
	 .loop = ADA_MAIN("", "   I : Integer := 0;\n   pragma Volatile (I);\n",
			  "   loop\n      I := (I + 1) mod 1000;\n   end loop;\n"),
	 .exit_code = 3},
	{.language = "d",
	 .hello = "import std.stdio;\n\nvoid main()\n{\n    writeln(\"Hello, World!\");\n}\n",
	 .echo = "import std.stdio;\n\nvoid main()\n{\n    write(readln());\n}\n",
	 .compile_error = "void main()\n{\n    int x = \"s\";\n}\n",
	 .runtime_error = "int main()\n{\n    return 3;\n}\n",
	 .loop = "void main()\n{\n    while (true) {\n    }\n}\n",
	 .exit_code = 3},
	{.language = "r",
	 .hello = "cat(\"Hello, World!\\n\")\n",
	 .echo = "cat(readLines(file(\"stdin\"), n = 1), \"\\n\", sep = \"\")\n",
	 .compile_error = "cat(1 +\n",
	 .runtime_error = "quit(status = 3)\n",
	 .loop = "repeat {\n}\n",
	 .exit_code = 3},
	{.language = "elixir",
	 .hello = "IO.puts(\"Hello, World!\")\n",
	 .echo = "IO.write(IO.gets(\"\"))\n",
	 .compile_error = "IO.puts(1 +\n",
	 .runtime_error = "System.halt(3)\n",
	 .loop = "Stream.repeatedly(fn -> 1 end) |> Stream.run()\n",
	 .exit_code = 3},
	{.language = "erlang",
	 .hello = ERL_MAIN("main() -> io:format(\"Hello, World!~n\").\n"),
	 .echo = ERL_MAIN("main() -> io:format(\"~s\", [io:get_line(\"\")]).\n"),
	 .compile_error = ERL_MAIN("main() -> x + .\n"),
	 .runtime_error = ERL_MAIN("main() -> halt(3).\n"),
	 .loop = ERL_MAIN("main() -> loop(0).\n\nloop(N) -> loop(N + 1).\n"),
	 .exit_code = 3},
	{.language = "clojure",
	 .hello = "(println \"Hello, World!\")\n",
	 .echo = "(println (read-line))\n",
	 .compile_error = "(println \"x\"\n",
	 .runtime_error = "(System/exit 3)\n",
	 .loop = "(loop [] (recur))\n",
	 .exit_code = 3},
	{.language = "lisp",
	 .hello = "(write-line \"Hello, World!\")\n",
	 .echo = "(write-line (read-line))\n",
	 .compile_error = "(write-line \"x\"\n",
	 .runtime_error = "(sb-ext:exit :code 3)\n",
	 .loop = "(loop)\n",
	 .exit_code = 3},
	{.language = "prolog",
	 .hello = PROLOG_MAIN("main :- write('Hello, World!'), nl, halt.\n"),
	 .echo = PROLOG_MAIN("main :- read_line_to_string(user_input, S), write(S), nl, halt.\n"),
	 .compile_error = PROLOG_MAIN("main :- write(.\n"),
	 .runtime_error = PROLOG_MAIN("main :- halt(3).\n"),
	 .loop = PROLOG_MAIN("loop(N) :- M is N + 1, loop(M).\nmain :- loop(0).\n"),
	 .exit_code = 3},
	{.language = "tcl",
	 .hello = "puts \"Hello, World!\"\n",
	 .echo = "puts [gets stdin]\n",
	 .compile_error = "puts \"unterminated\n",
	 .runtime_error = "exit 3\n",
	 .loop = "while 1 {}\n",
	 .exit_code = 3},
	{.language = "asm",
	 .hello = ASM_MAIN(
		 "msg db \"Hello, World!\", 10\n",
		 "\tmov rax, 1\n\tmov rdi, 1\n\tmov rsi, msg\n\tmov rdx, 14\n\tsyscall\n" ASM_EXIT(
			 "0")),
	 .echo = ASM_MAIN("", "\tmov rax, 0\n\tmov rdi, 0\n\tmov rsi, buf\n\tmov rdx, 256\n"
			      "\tsyscall\n\tmov rdx, rax\n\tmov rax, 1\n\tmov rdi, 1\n"
			      "\tmov rsi, buf\n\tsyscall\n" ASM_EXIT("0")),
	 .compile_error = ASM_MAIN("", "\tmov rax,\n" ASM_EXIT("0")),
	 .runtime_error = ASM_MAIN("", ASM_EXIT("3")),
	 .loop = ASM_MAIN("", "\tjmp _start\n"),
	 .exit_code = 3},
	/* sqlite3 stops at the first error with status 1: no other code. */
	{.language = "sql",
	 .hello = "SELECT 'Hello, World!';\n",
	 /* sqlite3 cannot open /dev/stdin in a sandbox (the pipe is not
	  * the sandbox user's): .import reads the output of cat. */
	 .echo = "CREATE TABLE t(line TEXT);\n.import '|cat' t\nSELECT line FROM t;\n",
	 .compile_error = "SELEC 1;\n",
	 .runtime_error = "SELECT abs(-9223372036854775808);\n",
	 .loop = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)\n"
		 "SELECT count(*) FROM c;\n",
	 .exit_code = 1},
};

const size_t sbx_lang_snippets_len = sizeof(sbx_lang_snippets) / sizeof(sbx_lang_snippets[0]);

const struct sbx_lang_snippets *sbx_lang_snippets_find(const char *language)
{
	for (size_t i = 0; language && i < sbx_lang_snippets_len; i++)
		if (strcmp(sbx_lang_snippets[i].language, language) == 0)
			return &sbx_lang_snippets[i];
	return NULL;
}
