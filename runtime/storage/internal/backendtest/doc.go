// Package backendtest holds what the SQL backends' own tests share where
// each writes its fixture in its own SQL: the checks of a schema upgraded
// from before the operations, and the queries the operations benchmarks
// and plan tests run. The rules every backend keeps are in storagetest.
package backendtest
