package postgres_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/jobgen/jobgen/example"
	"github.com/jobgen/jobgen/runtime"
	"github.com/jobgen/jobgen/runtime/storage/postgres"
)

// The examples run on the server named by JOBGEN_TEST_POSTGRES, like the
// package's tests, or on the local test server when it is unset, each in a
// schema of its own that it drops at the end.

// exampleDSN returns the DSN of the server the examples run on.
func exampleDSN() string {
	if dsn := os.Getenv("JOBGEN_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// exampleSchema returns a fresh schema name and a function that drops the
// schema.
func exampleSchema(dsn string) (schema string, drop func()) {
	schema = "jobgen_example_" + rand.Text()[:12]
	return schema, func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			log.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			log.Fatal(err)
		}
	}
}

// ExampleConnect runs the example service on PostgreSQL: Connect opens a
// pool and, with AutoMigrate, creates or updates jobgen's tables.
func ExampleConnect() {
	ctx := context.Background()
	dsn := exampleDSN() // such as "postgres://app@db/app"
	schema, drop := exampleSchema(dsn)
	defer drop()

	store, err := postgres.Connect(ctx, dsn, &postgres.Options{Schema: schema, AutoMigrate: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	if err := example.Register(srv, &example.Service{}); err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(ctx)

	jobs := example.NewClients(srv.Client())
	h, err := jobs.Report.Submit(ctx, example.Report{
		Title: "Order 7",
		Lines: []example.LineItem{{Product: "stapler", Quantity: 2, Price: 4.25}},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := h.Wait(ctx) // res is an example.ReportResult
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(res.Text)
	// Output:
	// Order 7
	// stapler         2 x 4.25 = 8.50
	// Total: 8.50
}

// ExampleStore_WithTx submits a job inside the application's own
// transaction: the job exists only if the transaction commits, and the
// server hears of it at the commit.
func ExampleStore_WithTx() {
	ctx := context.Background()
	dsn := exampleDSN()
	schema, drop := exampleSchema(dsn)
	defer drop()

	store, err := postgres.Connect(ctx, dsn, &postgres.Options{Schema: schema, AutoMigrate: true})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	srv, err := runtime.NewServer(store, runtime.Config{})
	if err != nil {
		log.Fatal(err)
	}
	sender := example.SenderFunc(func(ctx context.Context, to, body string) error {
		fmt.Printf("to %s: %s\n", to, body)
		return nil
	})
	if err := example.Register(srv, &example.Service{Sender: sender}); err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer srv.Stop(ctx)
	jobs := example.NewClients(srv.Client())

	// submit sends a welcome message to whom in a transaction of its own,
	// which commits or rolls back.
	submit := func(whom string, commit bool) example.SendMessageID {
		tx, err := store.Pool().Begin(ctx)
		if err != nil {
			log.Fatal(err)
		}
		defer tx.Rollback(ctx)
		// ... the application's own writes in tx, such as creating the user ...
		h, err := jobs.SendMessage.Submit(runtime.InTx(ctx, store.WithTx(tx)), example.SendMessage{To: whom, Body: "welcome"}, nil)
		if err != nil {
			log.Fatal(err)
		}
		if commit {
			if err := tx.Commit(ctx); err != nil {
				log.Fatal(err)
			}
		}
		return h.ID
	}

	committed := submit("ada@example.com", true)
	rolledBack := submit("bob@example.com", false)
	fmt.Println(jobs.SendMessage.WaitFor(ctx, committed))
	_, err = jobs.SendMessage.Get(ctx, rolledBack)
	fmt.Println(errors.Is(err, runtime.ErrNotFound))
	// Output:
	// to ada@example.com: welcome
	// <nil>
	// true
}
