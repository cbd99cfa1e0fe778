package templates

import "github.com/dave/jennifer/jen"

func handlerParams(j Job) *jen.Statement {
	return jen.Params(ctxParam(), jen.Id("job").Op("*").Qual(RuntimePath, "Job").Types(jen.Id(j.Name)))
}

// Handler declares the job's handler interface, its …HandlerFunc adapter and
// its Register…Handler function.
func Handler(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	f.Commentf("%s runs %s jobs.", n.Handler, j.Name)
	f.Type().Id(n.Handler).Interface(
		handlerDoc(j),
		jen.Id(n.Method).Add(handlerParams(j)).Add(results(j)),
	)
	f.Line()

	f.Commentf("%s adapts a function to %s.", n.HandlerFunc, n.Handler)
	f.Type().Id(n.HandlerFunc).Func().Add(handlerParams(j)).Add(results(j))
	f.Line()

	f.Commentf("%s calls f(ctx, job).", n.Method)
	f.Func().Params(jen.Id("f").Id(n.HandlerFunc)).Id(n.Method).Add(handlerParams(j)).Add(results(j)).Block(
		jen.Return(jen.Id("f").Call(jen.Id("ctx"), jen.Id("job"))),
	)
	f.Line()

	var run jen.Code = jen.Id("h").Dot(n.Method)
	if j.Output == nil {
		run = jen.Func().Add(handlerParams(j)).Params(jen.Qual(RuntimePath, "NoOutput"), jen.Error()).Block(
			jen.Return(jen.Qual(RuntimePath, "NoOutput").Values(), jen.Id("h").Dot(n.Method).Call(jen.Id("ctx"), jen.Id("job"))),
		)
	}
	f.Commentf("%s makes srv run %s jobs with h. It fails when h is nil,", n.Register, j.Name)
	f.Comment("the kind is already registered or srv has started.")
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
	lines := []string{
		n.Method + " runs one " + j.Name + " job and returns its output. Return",
		"runtime.Permanent(err) to fail without retrying, runtime.RetryAfter(d, err)",
		"to retry after d; any other error is retried with the kind's backoff until",
		"the attempts run out.",
	}
	if j.Output == nil {
		lines = []string{
			n.Method + " runs one " + j.Name + " job. Return runtime.Permanent(err) to fail",
			"without retrying, runtime.RetryAfter(d, err) to retry after d; any other",
			"error is retried with the kind's backoff until the attempts run out.",
		}
	}
	s := jen.Comment(lines[0])
	for _, l := range lines[1:] {
		s.Line().Comment(l)
	}
	return s
}
