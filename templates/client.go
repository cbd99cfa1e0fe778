package templates

import "github.com/dave/jennifer/jen"

func ctxParam() *jen.Statement { return jen.Id("ctx").Qual("context", "Context") }

// results is a method's results: the output and an error, or only an error
// for jobs without output.
func results(j Job) *jen.Statement {
	if j.Output == nil {
		return jen.Error()
	}
	return jen.Parens(jen.List(output(j), jen.Error()))
}

// returnOutput returns call's (output, error) results as results(j) wants them.
func returnOutput(j Job, call *jen.Statement) []jen.Code {
	if j.Output == nil {
		return []jen.Code{
			jen.List(jen.Id("_"), jen.Err()).Op(":=").Add(call),
			jen.Return(jen.Err()),
		}
	}
	return []jen.Code{jen.Return(call)}
}

func progressResults() *jen.Statement {
	return jen.Parens(jen.List(jen.Op("<-").Chan().Qual(RuntimePath, "Progress"), jen.Func().Params()))
}

// Handle declares the job's handle: a submitted job's id with typed Wait,
// Abort and Progress.
func Handle(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	f.Commentf("%s refers to one submitted %s job. Submit returns it; the zero", n.Handle, j.Name)
	f.Comment("value is not usable.")
	f.Type().Id(n.Handle).Struct(
		jen.Comment("ID is the job's id."),
		jen.Id("ID").Int64(),
		jen.Comment("Duplicate reports that the submit found an active job with the same"),
		jen.Comment("unique key and returned it instead of storing a new one."),
		jen.Id("Duplicate").Bool(),
		jen.Line(),
		jen.Id("h").Op("*").Qual(RuntimePath, "Handle").Types(output(j)),
	)
	f.Line()

	recv := jen.Id("h").Id(n.Handle)
	if j.Output == nil {
		f.Comment("Wait waits for the job to finish and returns nil if it completed, or an")
		f.Comment("error matching runtime.ErrFailed, runtime.ErrAborted or runtime.ErrNotFound.")
	} else {
		f.Comment("Wait waits for the job to finish and returns its output, or an error")
		f.Comment("matching runtime.ErrFailed, runtime.ErrAborted or runtime.ErrNotFound.")
	}
	f.Func().Params(recv.Clone()).Id("Wait").Params(ctxParam()).Add(results(j)).Block(
		returnOutput(j, jen.Id("h").Dot("h").Dot("Wait").Call(jen.Id("ctx")))...,
	)
	f.Line()

	f.Comment("Abort aborts the job; see runtime.Client.Abort.")
	f.Func().Params(recv.Clone()).Id("Abort").Params(ctxParam()).Error().Block(
		jen.Return(jen.Id("h").Dot("h").Dot("Abort").Call(jen.Id("ctx"))),
	)
	f.Line()

	f.Comment("Progress subscribes to the job's progress until cancel is called or the")
	f.Comment("job finishes, when the channel is closed.")
	f.Func().Params(recv.Clone()).Id("Progress").Params().Add(progressResults()).Block(
		jen.Return(jen.Id("h").Dot("h").Dot("Progress").Call()),
	)
}

// Client declares the job's typed client and its constructor.
func Client(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	f.Commentf("%s submits, aborts and observes %s jobs.", n.Client, j.Name)
	f.Type().Id(n.Client).Struct(jen.Id("c").Op("*").Qual(RuntimePath, "Client"))
	f.Line()

	f.Commentf("%s returns a %s that works through c.", n.NewClient, n.Client)
	f.Func().Id(n.NewClient).Params(jen.Id("c").Op("*").Qual(RuntimePath, "Client")).Id(n.Client).Block(
		jen.Return(jen.Id(n.Client).Values(jen.Id("c").Op(":").Id("c"))),
	)
	f.Line()

	recv := jen.Id("c").Id(n.Client)
	f.Commentf("Submit stores a %s job with the kind's defaults, overridden by opts", j.Name)
	f.Comment("(which may be nil). A job with the same unique key as an active one is not")
	f.Comment("stored again: the handle then refers to the active job and has Duplicate set.")
	f.Func().Params(recv.Clone()).Id("Submit").
		Params(ctxParam(), jen.Id("args").Id(j.Name), jen.Id("opts").Op("*").Qual(RuntimePath, "SubmitOpts")).
		Params(jen.Id(n.Handle), jen.Error()).
		Block(
			jen.List(jen.Id("h"), jen.Err()).Op(":=").Id(n.Kind).Dot("Submit").Call(
				jen.Id("ctx"), jen.Id("c").Dot("c"), jen.Id("args"), jen.Id("opts")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(n.Handle).Values(), jen.Err())),
			jen.Return(jen.Id(n.Handle).Values(
				jen.Id("ID").Op(":").Id("h").Dot("ID"),
				jen.Id("Duplicate").Op(":").Id("h").Dot("Duplicate"),
				jen.Id("h").Op(":").Id("h"),
			), jen.Nil()),
		)
	f.Line()

	f.Comment("Abort aborts job id: a pending job at once, a running one by cancelling its")
	f.Comment("context. It returns an error matching runtime.ErrFinished when the job had")
	f.Comment("already finished.")
	f.Func().Params(recv.Clone()).Id("Abort").Params(ctxParam(), jen.Id("id").Int64()).Error().Block(
		jen.Return(jen.Id("c").Dot("c").Dot("Abort").Call(jen.Id("ctx"), jen.Id("id"))),
	)
	f.Line()

	if j.Output == nil {
		f.Comment("WaitFor waits until job id finishes and returns nil if it completed, or an")
		f.Comment("error matching runtime.ErrFailed, runtime.ErrAborted or runtime.ErrNotFound.")
	} else {
		f.Comment("WaitFor waits until job id finishes and returns its output, or an error")
		f.Comment("matching runtime.ErrFailed, runtime.ErrAborted or runtime.ErrNotFound.")
	}
	f.Func().Params(recv.Clone()).Id("WaitFor").Params(ctxParam(), jen.Id("id").Int64()).Add(results(j)).Block(
		returnOutput(j, jen.Id(n.Kind).Dot("WaitFor").Call(jen.Id("ctx"), jen.Id("c").Dot("c"), jen.Id("id")))...,
	)
	f.Line()

	f.Comment("Get returns job id with its arguments and, once it completed, its output.")
	f.Func().Params(recv.Clone()).Id("Get").Params(ctxParam(), jen.Id("id").Int64()).
		Params(jen.Op("*").Qual(RuntimePath, "Info").Types(jen.Id(j.Name), output(j)), jen.Error()).
		Block(jen.Return(jen.Id(n.Kind).Dot("Get").Call(jen.Id("ctx"), jen.Id("c").Dot("c"), jen.Id("id"))))
	f.Line()

	f.Comment("Progress subscribes to job id's progress until cancel is called or the job")
	f.Comment("finishes, when the channel is closed.")
	f.Func().Params(recv.Clone()).Id("Progress").Params(jen.Id("id").Int64()).Add(progressResults()).Block(
		jen.Return(jen.Id("c").Dot("c").Dot("SubscribeProgress").Call(jen.Id("id"))),
	)
}
