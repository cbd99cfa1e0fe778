package templates

import "github.com/dave/jennifer/jen"

func handlerParams(j Job) *jen.Statement {
	return jen.Params(jen.Id("ctx").Qual("context", "Context"), jen.Id("job").Op("*").Qual(RuntimePath, "Job").Types(jen.Id(j.Name)))
}

// results is a handler's results: the output and an error, or only an error
// for jobs without output.
func results(j Job) *jen.Statement {
	if j.Output == nil {
		return jen.Error()
	}
	return jen.Parens(jen.List(output(j), jen.Error()))
}

// Handler declares the job's handler interface, its …HandlerFunc adapter and
// its Register…Handler function.
func Handler(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	docf(f, "%s runs %s jobs.", n.Handler, j.Name)
	f.Type().Id(n.Handler).Interface(
		handlerDoc(j),
		jen.Id(n.Method).Add(handlerParams(j)).Add(results(j)),
	)
	f.Line()

	docf(f, "%s adapts a function to %s.", n.HandlerFunc, n.Handler)
	f.Type().Id(n.HandlerFunc).Func().Add(handlerParams(j)).Add(results(j))
	f.Line()

	docf(f, "%s calls f(ctx, job).", n.Method)
	f.Func().Params(jen.Id("f").Id(n.HandlerFunc)).Id(n.Method).Add(handlerParams(j)).Add(results(j)).Block(
		jen.Return(jen.Id("f").Call(jen.Id("ctx"), jen.Id("job"))),
	)
	f.Line()

	run := jen.Id("h").Dot(n.Method)
	if j.Output == nil {
		run = jen.Qual(RuntimePath, "NoOutputFunc").Call(run)
	}
	docf(f, "%s makes srv run %s jobs with h. It fails when h is nil, the kind is already registered or srv has started.", n.Register, j.Name)
	f.Func().Id(n.Register).Params(jen.Id("srv").Op("*").Qual(RuntimePath, "Server"), jen.Id("h").Id(n.Handler)).Error().Block(
		jen.If(jen.Id("h").Op("==").Nil()).Block(
			jen.Return(jen.Qual("errors", "New").Call(jen.Lit("register "+j.Kind+": nil handler"))),
		),
		jen.Return(jen.Id(n.Kind).Dot("Register").Call(jen.Id("srv"), run)),
	)
}

// handlerDoc documents the handler method.
func handlerDoc(j Job) jen.Code {
	n := NamesOf(j.Name)
	const retry = "Return runtime.Permanent(err) to fail without retrying, runtime.RetryAfter(d," + nbsp + "err) to retry after d (using an attempt), runtime.Snooze(d) to run again after d without using one; any other error is retried with the kind's backoff until the attempts run out."
	if j.Output == nil {
		return docStmt("%s runs one %s job. %s", n.Method, j.Name, retry)
	}
	return docStmt("%s runs one %s job and returns its output. %s", n.Method, j.Name, retry)
}
