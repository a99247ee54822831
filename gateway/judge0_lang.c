/* Judge0's languages and statuses. A language's id is Judge0 CE's for the
 * same language (db/languages/active.rb; where CE has several versions,
 * its newest id), so clients that hard-code ids keep working; languages
 * CE lacks get ids from 1000 up. The name is Judge0's "Name (Tool X.Y)"
 * with the version the daemon reports for what is installed. */
#include "gw_judge0.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "gw_server.h"
#include "respond.h"
#include "rpc_handler.h"
#include "status.h"

static const struct {
	int id;
	const char *runtime; /* the runtimes table's name (daemon/exec/runtimes.c) */
	const char *name;
	const char *tool; /* before the version, as CE names it; NULL: none */
	/* The tool when the version line is a bare number: bun's --version
	 * says "1.4.5" where tsx says "tsx v4.7.0". */
	const char *bare_tool;
	bool unversioned; /* the name alone, as CE's "Multi-file program" */
} table[] = {
	{45, "asm", "Assembly", "NASM", NULL, false},
	{46, "shell", "Bash", NULL, NULL, false},
	{50, "c", "C", "GCC", NULL, false},
	{51, "csharp", "C#", "Mono", NULL, false},
	{54, "cpp", "C++", "GCC", NULL, false},
	{55, "lisp", "Common Lisp", "SBCL", NULL, false},
	{56, "d", "D", NULL, NULL, false},
	{57, "elixir", "Elixir", NULL, NULL, false},
	{58, "erlang", "Erlang", "OTP", NULL, false},
	{59, "fortran", "Fortran", "GFortran", NULL, false},
	{60, "go", "Go", NULL, NULL, false},
	{61, "haskell", "Haskell", "GHC", NULL, false},
	{62, "java", "Java", "OpenJDK", NULL, false},
	{63, "node", "JavaScript", "Node.js", NULL, false},
	{64, "lua", "Lua", NULL, NULL, false},
	{65, "ocaml", "OCaml", NULL, NULL, false},
	{67, "pascal", "Pascal", "FPC", NULL, false},
	{68, "php", "PHP", NULL, NULL, false},
	{69, "prolog", "Prolog", NULL, NULL, false},
	{71, "python", "Python", NULL, NULL, false},
	{72, "ruby", "Ruby", NULL, NULL, false},
	{73, "rust", "Rust", NULL, NULL, false},
	{74, "typescript", "TypeScript", NULL, "Bun", false},
	{77, "cobol", "COBOL", "GnuCOBOL", NULL, false},
	{78, "kotlin", "Kotlin", NULL, NULL, false},
	{80, "r", "R", NULL, NULL, false},
	{81, "scala", "Scala", NULL, NULL, false},
	{82, "sql", "SQL", "SQLite", NULL, false},
	{85, "perl", "Perl", NULL, NULL, false},
	{86, "clojure", "Clojure", NULL, NULL, false},
	{89, "multifile", "Multi-file program", NULL, NULL, true},
	/* Not in Judge0 CE: ids of our own, never reused. */
	{1000, "ada", "Ada", "GNAT", NULL, false},
	{1001, "tcl", "Tcl", NULL, NULL, false},
	{1002, "bun", "TypeScript", "Bun", NULL, false},
};

/* The version number in a version line: the first dotted number
 * ("GNU bash, version 5.2.15(1)-release" -> 5.2.15, "v20.1.0" -> 20.1.0,
 * "This is perl 5, version 36, ... (v5.36.0)" -> 5.36.0), else the first
 * number, else the line itself. */
/* Does the word p is in begin with a "v" or "go" right before p? */
static bool starts_version(const char *line, const char *p)
{
	size_t k = p[-1] == 'v' ? 1 : p - line >= 2 && strncmp(p - 2, "go", 2) == 0 ? 2 : 0;

	return k && (p - k == line || !isalnum((unsigned char)p[-(ptrdiff_t)k - 1]));
}

static void version_number(const char *line, char *out, size_t size)
{
	const char *first = NULL;

	for (const char *p = line; *p; p++) {
		size_t n;

		if (!isdigit((unsigned char)*p))
			continue;
		n = strspn(p, "0123456789.");
		/* Inside a word ("x86_64", "r83330") it is no version; after a
		 * "v" or "go" that starts the word ("v20.1.0", "go1.19.8") it is. */
		if (p > line && (isalnum((unsigned char)p[-1]) || strchr("._-", p[-1])) &&
		    !starts_version(line, p)) {
			p += n - 1;
			continue;
		}
		while (n > 0 && p[n - 1] == '.')
			n--;
		if (memchr(p, '.', n)) {
			snprintf(out, size, "%.*s", (int)n, p);
			return;
		}
		if (!first)
			first = p;
		p += n - 1;
	}
	if (first)
		snprintf(out, size, "%.*s", (int)strspn(first, "0123456789"), first);
	else
		snprintf(out, size, "%s", line);
}

bool gw_j0_language_of(const Sbx__Language *l, struct gw_j0_language *ret)
{
	for (size_t i = 0; i < SBX_ARRAY_SIZE(table); i++) {
		char v[48];

		if (strcmp(table[i].runtime, l->name) != 0)
			continue;
		const char *line = l->version ? l->version : "", *tool = table[i].tool;

		if (table[i].bare_tool && isdigit((unsigned char)*line))
			tool = table[i].bare_tool;
		version_number(line, v, sizeof(v));
		*ret = (struct gw_j0_language){.id = table[i].id, .compiled = l->compiled};
		if (!*v || table[i].unversioned)
			snprintf(ret->name, sizeof(ret->name), "%s", table[i].name);
		else
			snprintf(ret->name, sizeof(ret->name), "%s (%s%s%s)", table[i].name,
				 tool ? tool : "", tool ? " " : "", v);
		snprintf(ret->runtime, sizeof(ret->runtime), "%s", l->name);
		snprintf(ret->source_file, sizeof(ret->source_file), "%s",
			 l->source_file ? l->source_file : "");
		return true;
	}
	return false;
}

static const char *const statuses_json =
	"[{\"id\":1,\"description\":\"In Queue\"},{\"id\":2,\"description\":\"Processing\"},"
	"{\"id\":3,\"description\":\"Accepted\"},{\"id\":4,\"description\":\"Wrong Answer\"},"
	"{\"id\":5,\"description\":\"Time Limit Exceeded\"},"
	"{\"id\":6,\"description\":\"Compilation Error\"},"
	"{\"id\":7,\"description\":\"Runtime Error (SIGSEGV)\"},"
	"{\"id\":8,\"description\":\"Runtime Error (SIGXFSZ)\"},"
	"{\"id\":9,\"description\":\"Runtime Error (SIGFPE)\"},"
	"{\"id\":10,\"description\":\"Runtime Error (SIGABRT)\"},"
	"{\"id\":11,\"description\":\"Runtime Error (NZEC)\"},"
	"{\"id\":12,\"description\":\"Runtime Error (Other)\"},"
	"{\"id\":13,\"description\":\"Internal Error\"},"
	"{\"id\":14,\"description\":\"Exec Format Error\"}]";

int gw_judge0_statuses_handler(struct gw_server *srv, struct gw_request *req)
{
	(void)srv;
	return gw_respond_text(req, 200, statuses_json);
}

static int by_id(const void *a, const void *b)
{
	const struct gw_j0_language *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The reply's languages that Judge0 can name, sorted by id, into a new
 * array; -EBADMSG for a reply that is not ListLanguages'. */
static int installed(const struct sbx_reply *reply, struct gw_j0_language **ret, size_t *n)
{
	const Sbx__ListLanguagesReply *lr = (const Sbx__ListLanguagesReply *)reply->msg;
	struct gw_j0_language *v;

	if (!lr || lr->base.descriptor != &sbx__list_languages_reply__descriptor)
		return -EBADMSG;
	v = calloc(lr->n_languages + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*n = 0;
	for (size_t i = 0; i < lr->n_languages; i++)
		if (gw_j0_language_of(lr->languages[i], &v[*n]))
			(*n)++;
	qsort(v, *n, sizeof(*v), by_id);
	*ret = v;
	return 0;
}

int gw_j0_find_language(const struct sbx_reply *reply, int id, struct gw_j0_language *ret)
{
	_cleanup_free_ struct gw_j0_language *v = NULL;
	size_t n;
	int r = installed(reply, &v, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id) {
			*ret = v[i];
			return 0;
		}
	return -ENOENT;
}

const char *gw_j0_query(struct gw_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool gw_j0_query_true(struct gw_request *req, const char *key)
{
	const char *v = gw_j0_query(req, key);

	return v && strcmp(v, "true") == 0;
}

bool gw_j0_call_ok(struct gw_request *req)
{
	int err;

	pthread_mutex_lock(&req->lock);
	err = req->call_err;
	pthread_mutex_unlock(&req->lock);
	return err == 0 && req->reply.status == SBX_OK && req->reply.msg;
}

static int languages_done(struct gw_server *srv, struct gw_request *req)
{
	_cleanup_free_ struct gw_j0_language *v = NULL;
	json_t *out;
	size_t n;
	int r;

	(void)srv;
	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	r = installed(&req->reply, &v, &n);
	if (r < 0)
		return r == -EBADMSG ? gw_rpc_respond_failure(req, r) : r;
	out = json_array();
	for (size_t i = 0; out && i < n; i++)
		if (json_array_append_new(
			    out, json_pack("{s:i, s:s}", "id", v[i].id, "name", v[i].name)) < 0) {
			json_decref(out);
			return -ENOMEM;
		}
	return out ? gw_respond(req, 200, out, NULL) : -ENOMEM;
}

/* Judge0's ids are integers; Rails' find takes "71abc" as 71, we do not. */
static bool parse_id(const char *s, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end || errno || v < 0 || v > 1000000)
		return false;
	*ret = (int)v;
	return true;
}

static int language_done(struct gw_server *srv, struct gw_request *req)
{
	struct gw_j0_language l;
	int id = -1, r;

	(void)srv;
	if (!gw_j0_call_ok(req))
		return gw_rpc_respond_call_failure(req);
	parse_id(gw_match_param(&req->match, "id"), &id);
	r = gw_j0_find_language(&req->reply, id, &l);
	if (r == -ENOENT)
		return gw_respond_error(req, 404, NULL, "language with id %s doesn't exist",
					gw_match_param(&req->match, "id"));
	if (r < 0)
		return r == -EBADMSG ? gw_rpc_respond_failure(req, r) : r;
	/* The runtimes table's argv is not exposed: the commands are null
	 * (gateway/SEED-DIFFERENCES.md). */
	return gw_respond(req, 200,
			  json_pack("{s:i, s:s, s:b, s:s, s:n, s:n}", "id", l.id, "name", l.name,
				    "is_archived", 0, "source_file", l.source_file, "compile_cmd",
				    "run_cmd"),
			  NULL);
}

static int list_languages(struct gw_server *srv, struct gw_request *req, gw_resume_fn done)
{
	Sbx__ListLanguagesRequest m = SBX__LIST_LANGUAGES_REQUEST__INIT;

	return gw_rpc_start(srv, req, "ListLanguages", &m.base, done);
}

int gw_judge0_languages_handler(struct gw_server *srv, struct gw_request *req)
{
	return list_languages(srv, req, languages_done);
}

int gw_judge0_language_handler(struct gw_server *srv, struct gw_request *req)
{
	int id;

	if (!parse_id(gw_match_param(&req->match, "id"), &id))
		return gw_respond_error(req, 404, NULL, "language with id %s doesn't exist",
					gw_match_param(&req->match, "id"));
	return list_languages(srv, req, language_done);
}
