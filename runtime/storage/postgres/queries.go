package postgres

import (
	"strconv"
	"strings"
)

// jobColumns is the column list every statement returns for a job, in the
// order scanJob reads it. The "j." qualifier is replaced per statement.
const jobColumns = `j.id, j.kind, j.queue, j.state, j.priority, j.attempt, j.max_attempts, j.run_after,
	j.lease_token, j.lease_expires_at, j.abort_requested_at, j.deadline, j.timeout_ns, j.input, j.output,
	j.error_message, j.error_code, j.unique_key, j.created_at, j.attempted_at, j.finished_at, j.metadata`

// claimColumns is the column list claimSQL returns, in the order claimScanner
// reads it: the fields of storage.ClaimedJob, then the job's place in claim
// order (priority, and run_after, a field of the job too). Returning only these keeps the claim's rows narrow.
const claimColumns = `j.id, j.kind, j.queue, j.input, j.attempt, j.max_attempts, j.lease_token, j.lease_expires_at,
	j.deadline, j.timeout_ns, j.created_at, j.metadata, j.priority, j.run_after`

// clockCTE is the storage clock of one statement: the caller's Now when
// given (tests), otherwise the database's.
const clockCTE = `clock AS (SELECT COALESCE($1::timestamptz, now()) AS t)`

// claimSQL claims ready pending jobs and rescues running jobs whose lease
// expired, in one statement, and returns the claimed jobs' claimColumns (in
// no particular order). Expired jobs with no attempts left fail with
// "lease_expired" instead, and are notified as finished ("f:id"; rare, so
// one notification each). The claiming UPDATE is the statement itself, not
// a CTE below a query that adds the clock: that would copy every claimed
// row once more, about a tenth of the claim's cost. The clock and the peek
// at the next run_after come from claimPeekSQL, sent behind it in the same
// implicit transaction.
//
// A paused queue (pausedSQL) claims and rescues nothing: the check is one
// primary-key lookup, made once per statement.
//
// The ready jobs are read range by range of priorities ($7..$10, in
// priority order; see floors.go): each range's scan of the pending index
// starts at its floor, the row (lo, run_after, id), and ends at its last
// priority, hi, so a claim does not walk the entries of jobs claimed
// before it that vacuum has not removed yet. The ranges' rows come in
// range order, which is claim order, so the scans stop as soon as limit
// jobs are found. Rescue ($11) runs only when asked, and reads the leases
// that expired since its floor ($12).
//
// $1 now, $2 queue, $3 kinds, $4 limit, $5 lease (µs), $6 channel, $7
// ranges' first priorities, $8 their last priorities, $9 and $10 their
// floors' run_after and id, $11 whether to rescue, $12 the rescue's floor.
const claimSQL = `WITH ` + clockCTE + `,
expired AS (
	SELECT x.id, x.priority, x.run_after, x.attempt >= x.max_attempts AS dead FROM {jobs} x
	WHERE $11::bool AND x.state = 'running' AND x.lease_expires_at <= (SELECT t FROM clock) AND x.lease_expires_at >= $12
		AND x.queue = $2 AND x.kind = ANY($3::text[]) AND NOT ` + pausedSQL + `
	ORDER BY x.priority, x.run_after, x.id
	LIMIT $4 FOR UPDATE SKIP LOCKED
),
dead AS (
	UPDATE {jobs} j SET state = 'failed', finished_at = (SELECT t FROM clock),
		lease_token = 0, lease_expires_at = NULL, error_code = 'lease_expired',
		error_message = 'lease expired on attempt ' || j.attempt || ' of ' || j.max_attempts
	WHERE j.id = ANY(ARRAY(SELECT e.id FROM expired e WHERE e.dead))
	RETURNING pg_notify($6, 'f:' || j.id)
),
pend AS (
	SELECT y.id, y.priority, y.run_after
	FROM unnest($7::int4[], $8::int4[], $9::timestamptz[], $10::int8[]) AS b(lo, hi, run_after, id)
	CROSS JOIN LATERAL (
		SELECT x.id, x.priority, x.run_after FROM {jobs} x
		WHERE x.state = 'pending' AND x.queue = $2
			AND (x.priority, x.run_after, x.id) >= (b.lo, b.run_after, b.id) AND x.priority <= b.hi
			AND x.kind = ANY($3::text[]) AND x.run_after <= (SELECT t FROM clock) AND NOT ` + pausedSQL + `
		ORDER BY x.priority, x.run_after, x.id
		LIMIT $4 FOR UPDATE SKIP LOCKED
	) y
	LIMIT $4
),
pick AS (
	SELECT u.id FROM (
		SELECT id, priority, run_after FROM pend
		UNION ALL
		SELECT id, priority, run_after FROM expired WHERE NOT dead) u
	ORDER BY u.priority, u.run_after, u.id
	LIMIT $4
)
UPDATE {jobs} j SET state = 'running', attempt = j.attempt + 1,
	lease_token = nextval('{lease_seq_lit}'),
	lease_expires_at = (SELECT t FROM clock) + $5::bigint * interval '1 microsecond',
	attempted_at = (SELECT t FROM clock)
WHERE j.id = ANY(ARRAY(SELECT p.id FROM pick p))
RETURNING ` + claimColumns

// claimPeekSQL follows claimSQL in its transaction: it returns the clock
// the claim used (now() is the transaction's start), the earliest future
// run_after of the queue and kinds, and whether the queue is paused (a
// paused queue's claim examined nothing, so it raises no floor). It asks
// for the first row in the order of the run_after index rather than for
// min(): no other index yields that order, and sorts are pinned off, so
// even a generic plan made on an empty table reads one entry of that index
// instead of every pending job of the queue.
//
// $1 now, $2 queue, $3 kinds.
const claimPeekSQL = `WITH ` + clockCTE + `
SELECT c.t, (SELECT x.run_after FROM {jobs} x
	WHERE x.state = 'pending' AND x.queue = $2 AND x.kind = ANY($3::text[])
		AND (x.run_after AT TIME ZONE 'UTC') > (c.t AT TIME ZONE 'UTC')
	ORDER BY (x.run_after AT TIME ZONE 'UTC') LIMIT 1), ` + pausedSQL + `
FROM clock c`

// probePendingSQL finds, for each priority $4, the claim-order key of the
// first ready pending job of the queue and kinds: where a claim's floor
// must be for that priority (see floors.go). It reads the pending index
// from each priority's front, as a claim from the front does, but locks
// nothing.
//
// $1 now, $2 queue, $3 kinds, $4 priorities.
const probePendingSQL = `WITH ` + clockCTE + `
SELECT y.priority, y.run_after, y.id
FROM unnest($4::int4[]) AS b(priority)
CROSS JOIN LATERAL (
	SELECT x.priority, x.run_after, x.id FROM {jobs} x
	WHERE x.state = 'pending' AND x.queue = $2 AND x.priority = b.priority
		AND x.kind = ANY($3::text[]) AND x.run_after <= (SELECT t FROM clock)
	ORDER BY x.priority, x.run_after, x.id
	LIMIT 1) y`

// probeExpiredSQL finds the earliest expired lease of a running job of
// the queue and kinds: where the rescue's floor must be.
//
// $1 now, $2 queue, $3 kinds.
const probeExpiredSQL = `WITH ` + clockCTE + `
SELECT (SELECT x.lease_expires_at FROM {jobs} x
	WHERE x.state = 'running' AND x.lease_expires_at <= c.t AND x.queue = $2 AND x.kind = ANY($3::text[])
	ORDER BY x.lease_expires_at LIMIT 1)
FROM clock c`

// pinSQL (or pinGenericSQL) runs before the claim, finish and heartbeat
// statements in the same implicit transaction (pipelined: the same round
// trip) and pins their plans to the one shape that is right at every table
// size: index scans (the pending index already yields claim order, so no
// sort), nested loops over primary-key lookups. The planner would
// otherwise choose from statistics, and a plan chosen while the table was
// empty (no statistics yet, or a generic plan cached then) is the one that
// collapses on a large backlog: a sort of the whole queue per claim, or a
// nested loop over the whole table. Plans are custom, made for every call:
// the planner then sees the table's current size even before autovacuum
// has analysed it, while a generic plan cached when the table was empty
// keeps whatever join order was free then. JIT would only add compile time
// to statements that touch a few hundred rows. The settings end with the
// implicit transaction.
const pinSQL = pinPlanShapeSQL + `, set_config('plan_cache_mode', 'force_custom_plan', true)`

// pinPlanShapeSQL is what pinSQL and pinGenericSQL share: the settings that
// leave the planner only the plan shape described at pinSQL.
const pinPlanShapeSQL = `SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true),
	set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
	set_config('jit', 'off', true)`

// pinGenericSQL is pinSQL for the statements whose plan with the other
// settings has no choice left that depends on the table's size: claimSQL
// joins no tables (every row it writes is found by primary key from an
// array), claimPeekSQL asks for an order only the run_after index yields,
// and finishOneSQL and finishOneDeleteSQL find their row by an id
// parameter. The plan made once per connection can be kept, which saves
// planning a statement of many parts on every call (about 0.8 ms of server
// time for the claim). The finishes of many jobs and the heartbeat join
// their input to the table, and a generic plan made while the table was
// small takes the table as the outer side of that join and reads all of it
// per statement once it has grown, so they keep custom plans (pinSQL).
const pinGenericSQL = pinPlanShapeSQL + `, set_config('plan_cache_mode', 'force_generic_plan', true)`

// insertSQL inserts many jobs; rows whose unique key is held by an active
// job of the same kind are skipped (the caller looks the holder up). Ids
// are drawn in input order, so RETURNING maps back to the input through ord.
//
// $1 now, $2 kinds, $3 queues, $4 inputs, $5 priorities, $6 max attempts,
// $7 run_after (NULL = now), $8 deadlines, $9 timeouts (ns), $10 unique
// keys, $11 per-job now (NULL = $1), $12 channel, $13 the queues to
// notify (none when the store announces the insert after its commit; see
// announcer), $14 metadata (JSON text, empty for none).
const insertSQL = `WITH ` + clockCTE + `,
i AS (
	SELECT u.*, nextval('{id_seq_lit}') AS id
	FROM unnest($2::text[], $3::text[], $4::bytea[], $5::int4[], $6::int4[],
		$7::timestamptz[], $8::timestamptz[], $9::int8[], $10::text[], $11::timestamptz[], $14::text[])
		WITH ORDINALITY AS u(kind, queue, input, priority, max_attempts, run_after, deadline, timeout_ns, unique_key, now,
			metadata, ord)
),
ins AS (
	INSERT INTO {jobs} AS j (id, kind, queue, state, priority, max_attempts, run_after, deadline,
		timeout_ns, input, unique_key, created_at, metadata)
	SELECT i.id, i.kind, i.queue, 'pending', i.priority, i.max_attempts,
		COALESCE(i.run_after, i.now, c.t), i.deadline, i.timeout_ns, i.input, i.unique_key, COALESCE(i.now, c.t),
		NULLIF(i.metadata, '')::jsonb
	FROM i, clock c
	ORDER BY i.ord
	ON CONFLICT (kind, unique_key) WHERE state IN ('pending', 'running') AND unique_key <> '' DO NOTHING
	RETURNING ` + jobColumns + `
)
SELECT i.ord, ` + jobColumns + `
FROM ins j JOIN i ON i.id = j.id
WHERE (SELECT count(pg_notify($12, 'i:' || q)) FROM unnest($13::text[]) q) >= 0`

// insertOneSQL is insertSQL for one job, with plain parameters: most
// submits are of one job, and one-element arrays cost the client an array
// encoding per column and the server an unnest and a join back. A row
// skipped on its unique key returns nothing (the caller then takes the
// general path, which finds the holder).
//
// $1 now (NULL = the database's), $2 kind, $3 queue, $4 input, $5 priority,
// $6 max attempts, $7 run_after (NULL = now), $8 deadline, $9 timeout (ns),
// $10 unique key, $11 channel, $12 whether to notify the queue (see $13
// of insertSQL), $13 metadata (JSON text, empty for none).
const insertOneSQL = `WITH ` + clockCTE + `,
ins AS (
	INSERT INTO {jobs} AS j (kind, queue, state, priority, max_attempts, run_after, deadline,
		timeout_ns, input, unique_key, created_at, metadata)
	SELECT $2::text, $3::text, 'pending', $5::int4, $6::int4, COALESCE($7::timestamptz, c.t), $8::timestamptz,
		$9::int8, $4::bytea, $10::text, c.t, NULLIF($13::text, '')::jsonb
	FROM clock c
	ON CONFLICT (kind, unique_key) WHERE state IN ('pending', 'running') AND unique_key <> '' DO NOTHING
	RETURNING ` + jobColumns + `
)
SELECT ` + jobColumns + `
FROM ins j
WHERE (SELECT count(pg_notify($11::text, 'i:' || $3::text)) WHERE $12::bool) >= 0`

// activeByKeySQL finds the active holders of unique keys.
//
// $1 kinds, $2 unique keys.
const activeByKeySQL = `SELECT ` + jobColumns + `
FROM {jobs} j JOIN unnest($1::text[], $2::text[]) AS k(kind, unique_key)
	ON j.kind = k.kind AND j.unique_key = k.unique_key
WHERE j.state IN ('pending', 'running') AND j.unique_key <> ''`

// windowByKeySQL finds, for each job with a unique window, the newest job
// of its kind holding its key created within the window, whatever its
// state: one backward scan of the unique-window index per key.
//
// $1 now (NULL = the database's), $2 kinds, $3 unique keys, $4 windows
// (microseconds), $5 per-job now (NULL = $1). Returns the input's ord
// (from 1) and the holder.
const windowByKeySQL = `WITH ` + clockCTE + `
SELECT k.ord, ` + jobColumns + `
FROM clock c, unnest($2::text[], $3::text[], $4::int8[], $5::timestamptz[])
	WITH ORDINALITY AS k(kind, unique_key, window_us, now, ord)
JOIN LATERAL (
	SELECT * FROM {jobs} x
	WHERE x.kind = k.kind AND x.unique_key = k.unique_key AND x.unique_key <> ''
		AND x.created_at > COALESCE(k.now, c.t) - k.window_us * interval '1 microsecond'
	ORDER BY x.created_at DESC
	LIMIT 1
) j ON true`

// notifyFinishedSQL renders the notifications of the finished jobs in
// relation {src} (column id): one "f:id,id,..." payload per maxNotifyIDs
// ids, rather than one per job. Every notification is one more entry in
// the server's queue and one more message for every listener in every
// process, so a statement that finishes a batch of jobs sends a few.
// Subscribe splits them back into one notification per job.
var notifyFinishedSQL = `SELECT 'f:' || string_agg(nf.id::text, ',') AS payload
	FROM (SELECT x.id, row_number() OVER () - 1 AS n FROM {src} x) nf
	GROUP BY nf.n / ` + maxNotifyIDsText

// finishSetSQL is the SET list of the finish statements: row j takes the
// outcome in f (columns outcome, output, msg, code, delay_us) at the
// storage clock c.t. A completion clears the error an earlier attempt
// left; a retry keeps its own until the next outcome.
const finishSetSQL = `state = CASE f.outcome WHEN 1 THEN 'completed' WHEN 2 THEN 'failed' WHEN 5 THEN 'aborted' ELSE 'pending' END,
	output = CASE WHEN f.outcome = 1 THEN f.output ELSE j.output END,
	error_message = CASE WHEN f.outcome IN (2, 3, 5) THEN f.msg WHEN f.outcome = 1 THEN '' ELSE j.error_message END,
	error_code = CASE WHEN f.outcome IN (2, 3, 5) THEN f.code WHEN f.outcome = 1 THEN '' ELSE j.error_code END,
	run_after = CASE WHEN f.outcome IN (3, 4) THEN c.t + f.delay_us * interval '1 microsecond'
		ELSE j.run_after END,
	attempt = CASE WHEN f.outcome = 4 THEN greatest(j.attempt - 1, 0) ELSE j.attempt END,
	lease_token = 0,
	lease_expires_at = NULL,
	finished_at = CASE WHEN f.outcome IN (1, 2, 5) THEN c.t END`

// finishSQL writes many outcomes, each fenced by its lease token. Terminal
// outcomes with the delete flag delete the row. It returns the ordinal and
// queue of every applied entry. With a channel ($10 not NULL; WithTx
// views) it also notifies: "f:id,id,..." for terminal ones (see
// notifyFinishedSQL), "i:queue" once per queue with jobs back to pending;
// the store itself announces them after the commit instead (announcer),
// and writes rounds that only update, only complete or only delete with
// the leaner finishUpdateSQL, finishCompleteSQL and finishDeleteSQL.
//
// The fenced rows are first found and locked one by one by primary key
// (t): the lateral lookup can only be driven by the input, so neither a
// scan of every running job per entry nor a sort is possible whatever the
// statistics say. The state is checked outside that lookup, on the locked
// row (LIMIT 1 keeps the planner from pushing it into the lookup), so that
// the running jobs' partial index cannot stand in for the primary key. The
// writes then find those rows by primary key again.
//
// $1 now, $2 ids, $3 tokens, $4 outcomes, $5 outputs, $6 messages, $7 codes,
// $8 retry delays (µs), $9 delete flags, $10 channel.
var finishSQL = `WITH ` + clockCTE + `,
f AS (
	SELECT * FROM unnest($2::int8[], $3::int8[], $4::int4[], $5::bytea[], $6::text[], $7::text[], $8::int8[], $9::bool[])
		WITH ORDINALITY AS f(id, tok, outcome, output, msg, code, delay_us, del, ord)
),
t AS MATERIALIZED (
	SELECT f.*, f.outcome IN (1, 2, 5) AS terminal, f.del AND f.outcome IN (1, 2, 5) AS gone, x.queue
	FROM f CROSS JOIN LATERAL (
		SELECT x.state, x.queue FROM {jobs} x
		WHERE x.id = f.id AND x.lease_token = f.tok
		LIMIT 1 FOR UPDATE) x
	WHERE x.state = 'running'
),
gone AS (
	DELETE FROM {jobs} j USING t
	WHERE t.gone AND j.id = t.id
	RETURNING t.ord, j.id, j.queue, true AS terminal
),
upd AS (
	UPDATE {jobs} j SET ` + finishSetSQL + `
	FROM t f, clock c
	WHERE NOT f.gone AND j.id = f.id
	RETURNING f.ord, j.id, j.queue, f.terminal
),
r AS (SELECT * FROM gone UNION ALL SELECT * FROM upd),
fin AS (SELECT r.id FROM r WHERE r.terminal),
notes AS (
	` + strings.ReplaceAll(notifyFinishedSQL, "{src}", "fin") + `
	UNION ALL
	SELECT DISTINCT 'i:' || r.queue FROM r WHERE NOT r.terminal
)
SELECT r.ord, r.queue FROM r
WHERE CASE WHEN $10::text IS NULL THEN true
	ELSE (SELECT count(pg_notify($10, notes.payload)) FROM notes) >= 0 END`

// finishUpdateSQL is finishSQL for the common round in which no row is
// deleted, made by the store itself (which announces after the commit). It
// is one UPDATE fenced in its own WHERE, without finishSQL's lock step,
// which costs a quarter of the statement: a nonzero lease token names one
// claim of a running job, because every statement that takes a job out of
// running sets its token to 0, so the token alone is the fence. With no
// state condition no partial index can stand in for the primary key; with
// a custom plan (pinSQL) the rows are looked up by primary key from the
// input, sorted by id, so they are locked in id order as the heartbeat
// does. A row finished or re-claimed concurrently is re-checked on its
// newest version and skipped.
//
// $1 now, $2 ids, $3 tokens, $4 outcomes, $5 outputs, $6 messages, $7
// codes, $8 retry delays (µs).
const finishUpdateSQL = `WITH ` + clockCTE + `
UPDATE {jobs} j SET ` + finishSetSQL + `
FROM unnest($2::int8[], $3::int8[], $4::int4[], $5::bytea[], $6::text[], $7::text[], $8::int8[])
		WITH ORDINALITY AS f(id, tok, outcome, output, msg, code, delay_us, ord),
	clock c
WHERE j.id = f.id AND j.lease_token = f.tok AND f.tok <> 0
RETURNING f.ord, j.queue`

// finishCompleteSQL is finishUpdateSQL for the commonest round: every job
// completed, none deleted. It sets what finishSetSQL sets for a completion
// without the per-row CASEs, from ids and tokens and either one output per
// job or, when every job has the same output (jobs without output: NULL),
// that output once: in rounds of 900 jobs it takes about a sixth less time
// per job than finishUpdateSQL.
//
// $1 now, $2 ids, $3 tokens, $4 outputs (empty when shared), $5 the shared
// output.
const finishCompleteSQL = `WITH ` + clockCTE + `
UPDATE {jobs} j SET state = 'completed', output = COALESCE(f.output, $5::bytea), error_message = '',
	error_code = '', lease_token = 0, lease_expires_at = NULL, finished_at = c.t
FROM unnest($2::int8[], $3::int8[], $4::bytea[]) WITH ORDINALITY AS f(id, tok, output, ord), clock c
WHERE j.id = f.id AND j.lease_token = f.tok AND f.tok <> 0
RETURNING f.ord, j.queue`

// finishDeleteSQL is finishUpdateSQL for a round in which every row is
// deleted (terminal outcomes with the delete flag).
//
// $1 ids, $2 tokens.
const finishDeleteSQL = `DELETE FROM {jobs} j
USING unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS f(id, tok, ord)
WHERE j.id = f.id AND j.lease_token = f.tok AND f.tok <> 0
RETURNING f.ord, j.queue`

// finishOneSQL is finishUpdateSQL for a round of one job, with plain
// parameters. It finds its row by the id parameter, the only way any plan
// can, so unlike the statements of many jobs it keeps one generic plan per
// connection (pinGenericSQL): a lone finish, the one a waiting caller
// waits for, is not planned on every call.
//
// $1 now, $2 id, $3 token, $4 outcome, $5 output, $6 message, $7 code,
// $8 retry delay (µs).
const finishOneSQL = `WITH ` + clockCTE + `
UPDATE {jobs} j SET ` + finishSetSQL + `
FROM (VALUES ($4::int4, $5::bytea, $6::text, $7::text, $8::int8)) AS f(outcome, output, msg, code, delay_us),
	clock c
WHERE j.id = $2::int8 AND j.lease_token = $3::int8 AND $3::int8 <> 0
RETURNING 1::int8, j.queue`

// finishOneDeleteSQL is finishDeleteSQL for a round of one job (see
// finishOneSQL).
//
// $1 id, $2 token.
const finishOneDeleteSQL = `DELETE FROM {jobs} j
WHERE j.id = $1::int8 AND j.lease_token = $2::int8 AND $2::int8 <> 0
RETURNING 1::int8, j.queue`

// heartbeatSQL extends the leases still held with the given tokens. Like
// finishSQL, it finds and locks the rows by primary key from its input (in
// input order, which the caller sorts by id) and checks the state on the
// locked row, so no plan can scan the running jobs once per lease.
//
// $1 now, $2 ids, $3 tokens, $4 lease (µs).
const heartbeatSQL = `WITH ` + clockCTE + `,
l AS (SELECT * FROM unnest($2::int8[], $3::int8[]) AS l(id, tok)),
t AS MATERIALIZED (
	SELECT l.id FROM l CROSS JOIN LATERAL (
		SELECT x.state FROM {jobs} x
		WHERE x.id = l.id AND x.lease_token = l.tok
		LIMIT 1 FOR UPDATE) x
	WHERE x.state = 'running'
)
UPDATE {jobs} j SET lease_expires_at = c.t + $4::bigint * interval '1 microsecond'
FROM t, clock c
WHERE j.id = t.id
RETURNING j.id, j.abort_requested_at IS NOT NULL`

// abortSQL aborts a pending job or records an abort request on a running
// one, and notifies. It returns no row for a finished or unknown job.
//
// $1 now, $2 id, $3 channel.
const abortSQL = `WITH ` + clockCTE + `,
upd AS (
	UPDATE {jobs} j SET
		state = CASE WHEN j.state = 'pending' THEN 'aborted' ELSE j.state END,
		finished_at = CASE WHEN j.state = 'pending' THEN c.t ELSE j.finished_at END,
		abort_requested_at = CASE WHEN j.state = 'running' THEN COALESCE(j.abort_requested_at, c.t)
			ELSE j.abort_requested_at END
	FROM clock c
	WHERE j.id = $2 AND j.state IN ('pending', 'running')
	RETURNING ` + jobColumns + `
)
SELECT ` + jobColumns + ` FROM upd j,
	LATERAL (SELECT pg_notify($3, CASE WHEN j.state = 'aborted' THEN 'f:' ELSE 'a:' END || j.id)) n`

// abortRequestedSQL lists those of the jobs $1 that are running with an
// abort request.
const abortRequestedSQL = `SELECT j.id FROM {jobs} j
WHERE j.id = ANY($1) AND j.state = 'running' AND j.abort_requested_at IS NOT NULL
ORDER BY j.id`

// getSQL reads one job.
const getSQL = `SELECT ` + jobColumns + ` FROM {jobs} j WHERE j.id = $1`

// deleteFinishedSQL deletes up to $3 jobs in terminal state $1 finished
// before $2 and not before $4 (the store's sweep floor, see sweepFloors),
// and returns how many it deleted and the latest finished_at among them.
const deleteFinishedSQL = `WITH gone AS (
	DELETE FROM {jobs} j USING (
		SELECT x.id FROM {jobs} x
		WHERE x.state = $1 AND x.finished_at < $2 AND x.finished_at >= $4
		ORDER BY x.finished_at
		LIMIT $3 FOR UPDATE SKIP LOCKED) d
	WHERE j.id = d.id
	RETURNING j.finished_at
)
SELECT count(*), max(finished_at) FROM gone`

// queries holds the statements rendered with one store's names.
type queries struct {
	claim, claimPeek, insert, insertOne, activeByKey, heartbeat, abort, get        string
	probePending, probeExpired                                                     string
	windowByKey                                                                    string
	deleteFinished, abortRequested                                                 string
	finish, finishUpdate, finishComplete, finishDelete, finishOne, finishOneDelete string
	listPrefix                                                                     string
	count                                                                          string
	reserveIDs, copyJobs                                                           string // of insertCopy
}

func newQueries(n *names) *queries {
	return &queries{
		claim:           n.render(claimSQL),
		claimPeek:       n.render(claimPeekSQL),
		probePending:    n.render(probePendingSQL),
		probeExpired:    n.render(probeExpiredSQL),
		insert:          n.render(insertSQL),
		insertOne:       n.render(insertOneSQL),
		activeByKey:     n.render(activeByKeySQL),
		windowByKey:     n.render(windowByKeySQL),
		finish:          n.render(finishSQL),
		finishUpdate:    n.render(finishUpdateSQL),
		finishComplete:  n.render(finishCompleteSQL),
		finishDelete:    n.render(finishDeleteSQL),
		finishOne:       n.render(finishOneSQL),
		finishOneDelete: n.render(finishOneDeleteSQL),
		heartbeat:       n.render(heartbeatSQL),
		abort:           n.render(abortSQL),
		abortRequested:  n.render(abortRequestedSQL),
		get:             n.render(getSQL),
		deleteFinished:  n.render(deleteFinishedSQL),
		listPrefix:      n.render(`SELECT ` + jobColumns + ` FROM {jobs} j WHERE j.id > $1`),
		count:           n.render(countSQL),
		reserveIDs:      n.render(reserveIDsSQL),
		copyJobs:        n.render(copyJobsSQL),
	}
}

// maxNotifyIDsText is maxNotifyIDs in SQL.
var maxNotifyIDsText = strconv.Itoa(maxNotifyIDs)
