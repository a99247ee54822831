# Sourced by tests/swarm/run.sh: the checks of a running cluster (3 nodes,
# 2 gateways), whatever engine runs it. run_checks A B LIST KILL: A and B
# are the two gateways' base URLs (the same one behind Swarm's routing
# mesh), LIST prints the sandboxd containers, KILL kills one.
# Counts failures in $failed.
# shellcheck disable=SC2034,SC2015,SC2016 # failed is the caller's; ok() never fails; $((…)) is the sandbox's

code="" body=""
call() { # base method path [json body]: sets code and body
	local base=$1 method=$2 path=$3 data=${4:-} out
	local args=(-sS -m 60 -X "$method" -w '\n%{http_code}')
	[ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
	out=$(curl "${args[@]}" "$base$path" 2>&1)
	code=${out##*$'\n'}
	body=${out%$'\n'*}
}
ok() { say "ok    $*"; }
fail() { say "FAIL  $*"; failed=1; }
# expect NAME WANT: the last call answered 2xx with WANT in its body.
expect() {
	if [[ "$code" = 2* && "$body" == *"$2"* ]]; then ok "$1: ${body:0:100}"; return 0; fi
	fail "$1: HTTP $code ${body:0:300}"
	return 1
}
jget() { printf '%s' "$body" | jq -r "$1" 2>/dev/null; }

# Waits until the gateway at $1 reports $2 nodes up.
wait_nodes() {
	local n=""
	for _ in $(seq 1 120); do
		n=$(curl -s -m 5 "$1/admin/api/status" | jq -r '[.nodes[]? | select(.up == true)] | length' 2>/dev/null)
		[ "$n" = "$2" ] && return 0
		sleep 1
	done
	fail "$1/admin/api/status: $n nodes up, not $2, after 120 s"
	return 1
}

# "TAG NODE-ID" per node, from the admin status: ids name their node's tag.
TAGS=""
load_tags() { TAGS=$(curl -s -m 5 "$1/admin/api/status" | jq -r '.nodes[]? | "\(.tag) \(.id)"' 2>/dev/null); }
# NODE = the node of the last answer: its "node", else the node whose tag
# its id (jq path $1) carries. Counts answers without "node" in $unnamed.
unnamed=0 NODE=""
answer_node() {
	local id
	NODE=$(jget '.node // empty')
	[ -n "$NODE" ] && return
	unnamed=$((unnamed + 1))
	id=$(jget "$1 // empty")
	[ -n "$id" ] && NODE=$(printf '%s' "$TAGS" | awk -v t="${id:0:8}" '$1 == t { printf "%s", $2 }')
}

# The README's examples, and where their answers ran.
check_examples() {
	local a=$1 b=$2 i nodes=""
	call "$a" GET /health
	expect "GET /health" '"status"'
	for i in $(seq 1 12); do
		call "$a" POST /run '{"command": ["/bin/echo", "Hello from sandbox!"]}'
		[[ "$code" = 200 && "$body" == *'Hello from sandbox!'* ]] ||
			{ fail "POST /run #$i: HTTP $code ${body:0:300}"; continue; }
		answer_node .no_id
		[ -n "$NODE" ] && nodes+="$NODE"$'\n'
	done
	for i in $(seq 1 6); do
		call "$b" POST /api/v1/execute \
			'{"code": "print(\"Hello from secure sandbox!\")\nprint(2 + 2)", "language": "python", "timeout": 30}'
		expect "POST /api/v1/execute #$i (gateway 2)" 'Hello from secure sandbox!' || continue
		answer_node .execution_id
		[ -n "$NODE" ] && nodes+="$NODE"$'\n'
	done
	local distinct
	distinct=$(printf '%s' "$nodes" | sort -u | grep -c .)
	if [ "$distinct" -ge 2 ]; then
		ok "18 executions landed on $distinct nodes: $(printf '%s' "$nodes" | sort | uniq -c | tr -s ' \n' ' ')"
	else
		fail "18 executions landed on $distinct node(s): $nodes"
	fi
	call "$a" POST /execute '{"language": "python", "code": "print(2 + 2)"}'
	expect "POST /execute" '4'
	call "$a" GET /languages
	expect "GET /languages" 'python'
}

SANDBOXES=() SB_NODES=() SESSION="" DEPLOYMENT=""

# Objects: sandboxes placed over the nodes, a session, a deployment; each
# reached through the other gateway too.
check_objects() {
	local a=$1 b=$2 i id
	for i in 1 2 3; do
		call "$a" POST /sandbox \
			'{"runtime": "node", "code": "console.log(\"Hello from Node.js!\")", "timeout_ms": 5000, "memory_limit_mb": 128}'
		id=$(jget '.id // empty')
		[ -n "$id" ] || { fail "POST /sandbox: HTTP $code ${body:0:300}"; continue; }
		SANDBOXES+=("$id")
		answer_node .id
		SB_NODES+=("$NODE")
		call "$b" POST "/sandbox/$id/execute"
		expect "sandbox $i on node ${SB_NODES[-1]}: execute through gateway 2" 'Hello from Node.js!'
	done
	if [ "$(printf '%s\n' "${SB_NODES[@]}" | sort -u | grep -c .)" -ge 2 ]; then
		ok "sandboxes placed on nodes: ${SB_NODES[*]}"
	else
		fail "sandboxes placed on nodes: ${SB_NODES[*]} (want >= 2 nodes)"
	fi
	call "$a" POST /sessions '{}'
	SESSION=$(jget '.session_id // empty')
	[ -n "$SESSION" ] || fail "POST /sessions: HTTP $code ${body:0:300}"
	call "$b" POST "/sessions/$SESSION/run" '{"command": ["/bin/sh", "-c", "echo $((6*7)) > /workspace/n; cat /workspace/n"]}'
	expect "session run through gateway 2" '42'
	call "$a" POST /faas/deploy '{"runtime": "node", "entry_point": "server.js",
		"code": "require(\"http\").createServer((q, s) => s.end(\"hi \" + q.url)).listen(3000)"}'
	DEPLOYMENT=$(jget '.deployment_id // empty')
	answer_node .deployment_id
	expect "POST /faas/deploy (node $NODE)" 'deployment_id'
	call "$a" GET "/faas/$DEPLOYMENT/hello"
	expect "GET /faas/{id}/hello" 'hi /hello'
	call "$b" GET "/faas/$DEPLOYMENT/again"
	expect "GET /faas/{id}/again through gateway 2" 'hi /again'
	call "$b" GET /sandboxes
	local listed=0
	for id in "${SANDBOXES[@]}"; do [[ "$body" == *"$id"* ]] && listed=$((listed + 1)); done
	[ "$code" = 200 ] && [ $listed = ${#SANDBOXES[@]} ] && ok "GET /sandboxes lists all $listed (merged)" ||
		fail "GET /sandboxes: HTTP $code, $listed of ${#SANDBOXES[@]} listed"
}

# The container whose node reports id $2 (among what $1 lists).
container_of() {
	local c
	for c in $($1); do
		[ "$(docker exec "$c" sandboxctl --rpc tcp://127.0.0.1:7000 call Health '{}' 2>/dev/null |
			jq -r '.node.id // empty')" = "$2" ] && { printf '%s' "$c"; return 0; }
	done
	return 1
}

# N runs through $1; RAN_OK and RAN_GONE count the answers and the 503s
# naming node $3 as gone under the run; anything else fails.
RAN_OK=0 RAN_GONE=0
runs() {
	local i bad=0
	RAN_OK=0 RAN_GONE=0
	for i in $(seq 1 "$2"); do
		call "$1" POST /run '{"command": ["/bin/echo", "still here"]}'
		if [[ "$code" = 200 && "$body" == *'still here'* ]]; then RAN_OK=$((RAN_OK + 1)); continue; fi
		if [[ -n "$3" && "$code" = 503 && "$body" == *"$3 went away"* ]]; then RAN_GONE=$((RAN_GONE + 1)); continue; fi
		bad=$((bad + 1))
		say "      /run: HTTP $code ${body:0:200}"
	done
	return $bad
}

# Polls the killed node's sandbox $2 through $1 until it executes again;
# while it answers 503 (its node down) a /run and GET of another node's
# sandbox $3 must succeed each time.
poll_victim() {
	local a=$1 vid=$2 other=$3 seen="" last="" n=0 down_runs=0 down_bad=0
	for _ in $(seq 1 240); do
		call "$a" POST "/sandbox/$vid/execute"
		if [ "$code" != "$last" ]; then
			[ -n "$last" ] && seen+="×$n, "
			seen+="$code" last=$code n=0
			[ "$code" = 200 ] || say "      the killed node's sandbox: HTTP $code ${body:0:160}"
		fi
		n=$((n + 1))
		[ "$code" = 200 ] && break
		runs "$a" 1 "" && down_runs=$((down_runs + 1)) || down_bad=$((down_bad + 1))
		if [ -n "$other" ]; then
			call "$a" GET "/sandbox/$other"
			[ "$code" = 200 ] || { down_bad=$((down_bad + 1)); say "      GET /sandbox/$other: HTTP $code ${body:0:160}"; }
		fi
		sleep 0.3
	done
	seen+="×$n"
	# The id names its node: while that node is away nothing may say the
	# object is gone (404); it is a 503 naming the node.
	case " $seen" in
	*" 404"*) fail "the killed node's sandbox answered 404 while its node was away (HTTP $seen)" ;;
	*) ok "the killed node's sandbox, polled from the kill on: HTTP $seen" ;;
	esac
	[ $down_bad = 0 ] && ok "while the node was away: $down_runs runs answered, and another node's sandbox" ||
		fail "while the node was away: $down_bad requests failed ($down_runs runs answered)"
	expect "then it executes again" 'Hello from Node.js!'
}

# One node killed: the cluster keeps answering, the node's objects come
# back with it.
check_kill() {
	local a=$1 b=$2 list=$3 kill=$4 victim=${SB_NODES[0]} vid=${SANDBOXES[0]} c i other="" t_kill
	c=$(container_of "$list" "$victim") || { fail "no container reports node $victim"; return; }
	for i in "${!SANDBOXES[@]}"; do
		[ "${SB_NODES[$i]}" != "$victim" ] && { other=${SANDBOXES[$i]}; break; }
	done
	say "killing node $victim (container ${c:0:12})"
	$kill "$c" || { fail "could not kill ${c:0:12}"; return; }
	t_kill=$(date +%s)
	# At once: a run is answered (a gateway that saw the node's connection
	# close sends it elsewhere) or, sent to the node as it died, is a 503
	# saying so (it may have run, so it is never retried).
	runs "$a" 10 "$victim" && ok "10 runs right after the kill: $RAN_OK answered, $RAN_GONE a 503 naming the node that died under them" ||
		fail "runs right after the kill failed otherwise"
	poll_victim "$a" "$vid" "$other"
	say "      the node was back $(($(date +%s) - t_kill)) s after the kill"
	if [ -n "$other" ]; then
		call "$b" POST "/sandbox/$other/execute"
		expect "a sandbox of another node answers" 'Hello from Node.js!'
	fi
	call "$b" GET "/sandbox/$vid"
	answer_node .id
	[ "$NODE" = "$victim" ] && ok "the killed node's sandbox is still on node $victim" ||
		fail "GET /sandbox/$vid: node '$NODE', not $victim"
	wait_nodes "$a" 3 && ok "3 nodes up again"
	runs "$b" 10 "" && ok "10 runs through gateway 2 all answered" || fail "runs through gateway 2 failed"
	call "$b" POST "/sessions/$SESSION/run" '{"command": ["/bin/cat", "/workspace/n"]}'
	expect "the session kept its workspace" '42'
	call "$b" GET "/faas/$DEPLOYMENT/back"
	expect "the deployment answers through /faas/{id}/" 'hi /back'
}

check_cleanup() {
	local a=$1 id
	for id in "${SANDBOXES[@]}"; do
		call "$a" DELETE "/sandbox/$id"
		[[ "$code" = 2* ]] || fail "DELETE /sandbox/$id: HTTP $code ${body:0:200}"
	done
	[ -n "$SESSION" ] && call "$a" DELETE "/sessions/$SESSION"
	[ -n "$DEPLOYMENT" ] && { call "$a" DELETE "/faas/deployments/$DEPLOYMENT"; expect "DELETE /faas/deployments/{id}" ''; }
	call "$a" GET /sandboxes
	[ "$(jget 'length')" = 0 ] && ok "no sandbox left" || fail "GET /sandboxes after the deletes: ${body:0:300}"
}

run_checks() {
	local a=$1 b=$2 list=$3 kill=$4 t
	t=$(date +%s)
	say "checks: gateways $a and $b"
	wait_nodes "$a" 3 || return
	wait_nodes "$b" 3 || return
	ok "3 nodes up behind both gateways ($(($(date +%s) - t)) s)"
	load_tags "$a"
	check_examples "$a" "$b"
	check_objects "$a" "$b"
	[ ${#SANDBOXES[@]} -gt 0 ] && check_kill "$a" "$b" "$list" "$kill"
	check_cleanup "$a"
	# Every object reply and execution result names its node (issue 13).
	[ $unnamed = 0 ] && ok "every answer named its node" ||
		fail "$unnamed answers had no \"node\" (their node was found by the tag of their id)"
	say "checks took $(($(date +%s) - t)) s"
}
