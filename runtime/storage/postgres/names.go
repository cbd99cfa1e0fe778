package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/runtime/storage"
)

var identRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`)

// maxPrefixLen keeps every derived name within PostgreSQL's 63-byte limit.
const maxPrefixLen = 40

// names holds the quoted, schema-qualified names of everything jobgen
// creates, derived once from the validated options.
type names struct {
	schema   string // raw schema name
	prefix   string // raw table prefix
	qschema  string // quoted schema
	jobs     string // quoted, qualified jobs table
	leaseSeq string // quoted, qualified lease token sequence
	idSeq    string // quoted, qualified job id sequence
	version  string // quoted, qualified schema version table
	buckets  string // quoted, qualified rate limit bucket table
	queues   string // quoted, qualified queue state table
	scheds   string // quoted, qualified schedules table
	channel  string // LISTEN/NOTIFY channel (raw; quoted for LISTEN)
	lockKey  int64  // advisory lock key that serialises migrations
}

func newNames(opts *Options) (*names, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Schema == "" {
		o.Schema = "public"
	}
	if !identRE.MatchString(o.Schema) {
		return nil, fmt.Errorf("%w: schema %q: want an identifier matching %s", storage.ErrInvalid, o.Schema, identRE)
	}
	if o.TablePrefix != "" && (len(o.TablePrefix) > maxPrefixLen || !identRE.MatchString(o.TablePrefix)) {
		return nil, fmt.Errorf("%w: table prefix %q: want at most %d letters, digits or underscores, not starting with a digit",
			storage.ErrInvalid, o.TablePrefix, maxPrefixLen)
	}
	q := func(name string) string { return pgx.Identifier{o.Schema, o.TablePrefix + name}.Sanitize() }
	n := &names{
		schema:   o.Schema,
		prefix:   o.TablePrefix,
		qschema:  pgx.Identifier{o.Schema}.Sanitize(),
		jobs:     q("jobgen_jobs"),
		leaseSeq: q("jobgen_lease_token_seq"),
		idSeq:    q("jobgen_jobs_id_seq"),
		version:  q("jobgen_schema_version"),
		buckets:  q("jobgen_rate_buckets"),
		queues:   q("jobgen_queues"),
		scheds:   q("jobgen_schedules"),
	}
	sum := sha256.Sum256([]byte(o.Schema + "." + o.TablePrefix))
	n.channel = "jobgen_" + hex.EncodeToString(sum[:12])
	var key int64
	for _, b := range sum[12:20] {
		key = key<<8 | int64(b)
	}
	n.lockKey = key
	return n, nil
}

// render replaces the {placeholders} of a migration or query with quoted names.
func (n *names) render(sql string) string {
	idx := func(name string) string { return pgx.Identifier{n.prefix + "jobgen_jobs_" + name}.Sanitize() }
	return strings.NewReplacer(
		"{schema}", n.qschema,
		"{jobs}", n.jobs,
		"{lease_seq_lit}", n.leaseSeq,
		"{id_seq_lit}", n.idSeq,
		"{lease_seq}", n.leaseSeq,
		"{id_seq}", n.idSeq,
		"{version}", n.version,
		"{buckets}", n.buckets,
		"{queues}", n.queues,
		"{schedules}", n.scheds,
		"{idx_pending}", idx("pending"),
		"{idx_pending_run_after}", idx("pending_run_after"),
		"{idx_running_lease}", idx("running_lease"),
		"{idx_unique}", idx("unique_key"),
		"{idx_unique_window}", idx("unique_window"),
		"{idx_finished}", idx("finished"),
		"{idx_state}", idx("state"),
		"{idx_queue_state}", idx("queue_state"),
		"{idx_kind_state}", idx("kind_state"),
	).Replace(sql)
}
