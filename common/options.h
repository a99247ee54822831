/* One option table (redis' createIntConfig): a program's settings are rows
 * of one type, each naming its flag, environment variable, config.toml key,
 * type, place in the program's config struct, default and help. From the
 * rows follow the defaults, the environment, flags (argv), config.toml keys,
 * the refusal sentences, --help, --print-config and the README table, so a
 * setting is added as one row and its default is written once.
 *
 * sandboxd (daemon/config.c), sandbox-gateway (gateway/config.c) and
 * `sandboxd --run` (daemon/sandbox/cli_run.c) each keep one table. Nothing
 * here keeps state between calls or logs. */
#ifndef SBX_OPTIONS_H
#define SBX_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sbx_opt_type {
	SBX_OPT_STR,	/* char *: a copy, owned (sbx_opts_fini frees it) */
	SBX_OPT_REF,	/* const char *: borrowed from argv, envp or the row */
	SBX_OPT_U32,	/* uint32_t, decimal, from min to max */
	SBX_OPT_U64,	/* uint64_t, decimal, from min to max */
	SBX_OPT_SIZE,	/* uint64_t bytes, decimal with k/m/g (KiB/MiB/GiB) */
	SBX_OPT_BOOL,	/* bool: true/false, 1/0, yes/no */
	SBX_OPT_SWITCH, /* bool set by a flag that takes no value */
	SBX_OPT_ACTION, /* a flag without value: the load's action becomes .min */
	SBX_OPT_IGNORE, /* a flag without value that is accepted and does nothing */
	SBX_OPT_CUSTOM, /* .set parses and stores; refused values "must .must" */
	/* struct sbx_opt_list: a repeatable setting, each value one item or
	 * several comma-separated. The default and the environment replace
	 * the list, so does the first flag; every later flag adds its items
	 * (`--rpc A --rpc B,C` is "A,B,C"). Freed by sbx_opts_fini. */
	SBX_OPT_LIST,
};

/* The items of an SBX_OPT_LIST row, joined with commas. */
struct sbx_opt_list {
	char *joined;	/* owned; NULL: no value */
	bool from_argv; /* a flag set it: the next flag adds to it */
};

/* Row flags. */
#define SBX_OPT_NONEMPTY (1u << 0) /* STR/REF: "" is refused; LIST: an empty item too */
#define SBX_OPT_SECRET (1u << 1)   /* masked by sbx_opts_print when set */
#define SBX_OPT_NO_ECHO (1u << 2)  /* the refusal does not repeat the value */

/* The first fields are in the order of a short positional row:
 * { key, env, flag, type, offset, default, min, max, help }. */
struct sbx_opt {
	const char *key;  /* config.toml "table.key"; NULL: none */
	const char *env;  /* environment variable; NULL: none */
	const char *flag; /* long option without "--"; NULL: none */
	enum sbx_opt_type type;
	size_t offset; /* of the field in the program's config struct */
	/* The default as text, parsed like any value (so it is checked
	 * against min/max too); NULL: the field stays zero. */
	const char *def;
	uint64_t min, max; /* U32/U64/SIZE; ACTION: min is the action */
	const char *help;  /* one line, without the default */
	const char *arg;   /* --help's name of the value: "MS", "N" */
	char short_flag;   /* -x; 0: none */
	/* CUSTOM: store v in cfg or return -EINVAL; `must` completes "... must
	 * <must>, not '<v>'". */
	int (*set)(void *cfg, const char *v);
	const char *must;
	const char *def_help; /* --help's default instead of def ("3 x --time") */
	unsigned flags;	      /* SBX_OPT_* above */
};

/* Table flags: how a program has always read argv and said no. */
/* Options are exact: no abbreviation, no cluster of short options, and a
 * positional argument is refused where it stands. Otherwise getopt_long's
 * rules: a unique prefix of a long option, "-hV", positional arguments
 * refused after the options (or, with IN_ORDER, ending them). */
#define SBX_OPTS_EXACT (1u << 0)
#define SBX_OPTS_IN_ORDER (1u << 1)	 /* the first positional argument ends options */
#define SBX_OPTS_KEY_IN_ERRORS (1u << 2) /* "<from>: <key> must ..." */
#define SBX_OPTS_ENV_DOLLAR (1u << 3)	 /* the environment is named "$NAME" */
#define SBX_OPTS_TERSE (1u << 4)	 /* "invalid value for --flag: v" */

struct sbx_opts {
	const struct sbx_opt *rows;
	size_t n_rows;
	unsigned flags;
	/* printf formats of the argv errors: an unknown option ("%s": the
	 * argument), a missing value ("%s": the option as written, "%s": the
	 * row's arg) and a positional argument ("%s"). */
	const char *unknown, *missing, *positional;
	/* An abbreviation of several flags ("%s": the argument; the flags
	 * follow, quoted); NULL: the unknown option's sentence. */
	const char *ambiguous;
};

#define SBX_OPTS(rows_, flags_, unknown_, missing_, positional_, ...)                              \
	{                                                                                          \
		.rows = (rows_), .n_rows = sizeof(rows_) / sizeof((rows_)[0]), .flags = (flags_),  \
		.unknown = (unknown_), .missing = (missing_), .positional = (positional_),         \
		__VA_ARGS__                                                                        \
	}

/* true/false, 1/0, yes/no (case-insensitive words): 0 and *ret, or -EINVAL. */
int sbx_opts_parse_bool(const char *v, bool *ret);

/* Decimal digits only (no sign, no space), with a k/m/g (KiB/MiB/GiB)
 * suffix when `suffix`: 0 and *ret, or -EINVAL. */
int sbx_opts_parse_uint(const char *s, bool suffix, uint64_t *ret);

/* Parse v for row o and store it in cfg. `from` names where v came from
 * ("--rpc", "SANDBOXD_RPC", "line 4", "default") for the sentence in err on
 * -EINVAL; -ENOMEM when a copy fails. */
int sbx_opts_set(const struct sbx_opts *t, void *cfg, const struct sbx_opt *o, const char *v,
		 const char *from, char *err, size_t errlen);
/* Every row's default. */
int sbx_opts_defaults(const struct sbx_opts *t, void *cfg, char *err, size_t errlen);
/* Every row with an environment variable set in envp (NULL-terminated
 * "NAME=value"), in table order. */
int sbx_opts_env(const struct sbx_opts *t, void *cfg, char **envp, char *err, size_t errlen);
/* The value of NAME in envp, or NULL. */
const char *sbx_opts_getenv(char **envp, const char *name);
/* The row of a config.toml key, or NULL. */
const struct sbx_opt *sbx_opts_find_key(const struct sbx_opts *t, const char *key);

/* Walking argv: sbx_opts_iter_init, then sbx_opts_next until it returns 0
 * (the end; it->pos is then the first argument that is not an option, or
 * argc). Each 1 hands one row and its value (NULL for rows without one).
 * -EINVAL with a sentence in err for an unknown option, a missing value or
 * a positional argument (unless IN_ORDER). argv is not modified. */
struct sbx_opts_iter {
	const struct sbx_opts *t;
	int argc;
	char **argv;
	int pos;
	const char *cluster; /* the rest of "-hV" being read */
	int positional;	     /* first positional argument seen, 0: none */
};
void sbx_opts_iter_init(struct sbx_opts_iter *it, const struct sbx_opts *t, int argc, char **argv);
int sbx_opts_next(struct sbx_opts_iter *it, const struct sbx_opt **ret_row, const char **ret_value,
		  char *err, size_t errlen);
/* Apply one row that sbx_opts_next handed: ACTION rows set *action (may be
 * NULL when the table has none), IGNORE rows nothing, the others
 * sbx_opts_set with from = "--flag". */
int sbx_opts_apply_arg(const struct sbx_opts *t, void *cfg, const struct sbx_opt *o, const char *v,
		       int *action, char *err, size_t errlen);
/* Every option of argv, in order, through sbx_opts_apply_arg. */
int sbx_opts_argv(const struct sbx_opts *t, void *cfg, int argc, char **argv, int *action,
		  char *err, size_t errlen);

/* A setting kept in a file (Docker and Kubernetes secrets): the text of
 * `path` without its trailing newline ("\n" or "\r\n") into buf[size].
 * -EINVAL with a sentence in err naming `from` ("--cluster-key-file") and
 * the path when the file cannot be read, is empty, holds a NUL or another
 * line, or does not fit in size - 1 bytes. Reads at most size + 1 bytes. */
int sbx_opts_read_file(const char *path, const char *from, char *buf, size_t size, char *err,
		       size_t errlen);

/* Free the STR and LIST fields (the struct itself is the caller's). */
void sbx_opts_fini(const struct sbx_opts *t, void *cfg);

/* --help: one entry per row with a flag or an environment variable: the
 * flag and its value, the help, the default, the variable and the key. */
void sbx_opts_usage(const struct sbx_opts *t, FILE *f);
/* --print-config: `key = value` for every row with a key (SECRET masked). */
void sbx_opts_print(const struct sbx_opts *t, const void *cfg, FILE *f);
/* A Markdown table (flag | environment | config.toml | default | meaning)
 * of the rows, for the README. */
void sbx_opts_markdown(const struct sbx_opts *t, FILE *f);

#endif
