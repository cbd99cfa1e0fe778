// Package dashboard is a web dashboard for jobgen: an http.Handler over a
// runtime.Client that shows the queues, lists and filters jobs, shows one
// job with its arguments, output, error and live progress, lists the
// periodic schedules, and aborts, retries and deletes jobs, pauses and
// resumes queues and removes schedules.
//
// It uses only the client's public operations (List, Count, Queues, Get,
// Retry, Delete, Abort, PauseQueue, ResumeQueue, ListSchedules,
// RemoveSchedule, Subscribe and SubscribeProgress), so a detached client in a process that runs no
// server serves it as well as an attached one. Its pages are rendered on
// the server with html/template; its stylesheet and its one small script
// are embedded. Mount it under any prefix:
//
//	dash, err := dashboard.New(client, nil)
//	if err != nil { ... }
//	defer dash.Close()
//	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", auth(dash)))
//
// The routes, relative to the mount point:
//
//	GET  /                         the queues: counts per state, oldest ready job, throughput, pause and resume
//	GET  /queues/events            the queues table as server-sent events
//	GET  /jobs                     the jobs, newest first: filters by state, kind, queue and unique key; keyset pages
//	GET  /jobs/{id}                one job
//	GET  /jobs/{id}/events         a job's progress and state changes as server-sent events
//	POST /jobs/{id}/abort          abort the job
//	POST /jobs/{id}/retry          retry the failed or aborted job
//	POST /jobs/{id}/delete         delete the finished job (a pending one with pending=1)
//	POST /queues/pause             pause the queue named by the form's queue field
//	POST /queues/resume            resume it
//	GET  /schedules                the schedules: kind, queue, spec and zone, policies, next run, last job, arguments
//	POST /schedules/{name}/remove  remove the schedule (a server that registers it stores it again as it starts)
//
// Live pages keep one event stream open. It is fed by the client's event
// subscription and progress subscriptions, and reads storage again at most
// once a second while events arrive and every Options.RefreshInterval
// when none do (other processes' changes are not events here). A
// dashboard with no page open reads nothing.
//
// Security: the dashboard has no authentication of its own; wrap it in the
// service's middleware. Every state-changing request is a POST passed
// through net/http.CrossOriginProtection, so a cross-site form or script
// is refused with 403; Options.ReadOnly hides and refuses every action.
// Job data is rendered through the templates' escaping under a strict
// Content-Security-Policy, and storage errors are logged, not shown.
package dashboard
