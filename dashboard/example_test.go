package dashboard_test

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/jobgen/jobgen/dashboard"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/memory"
)

// requireUser lets through only the requests that carry the user's
// password (HTTP basic authentication over TLS, in a real service).
func requireUser(user, password string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="jobs", charset="UTF-8"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Example mounts the dashboard under /dashboard/ behind the service's own
// authentication.
func Example() {
	store := memory.New()
	defer store.Close()
	client, err := runtime.NewClient(store, runtime.ClientConfig{})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	dash, err := dashboard.New(client, nil)
	if err != nil {
		panic(err)
	}
	defer dash.Close()
	mux := http.NewServeMux()
	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", requireUser("ops", "s3cret", dash)))

	for _, auth := range []bool{false, true} {
		req := httptest.NewRequest(http.MethodGet, "/dashboard/", nil)
		if auth {
			req.SetBasicAuth("ops", "s3cret")
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 401
	// 200
}
