package templates

import "github.com/dave/jennifer/jen"

// typed returns the runtime's generic type name for a job's client or handle
// and its type arguments: KindClient[In, Out] for jobs with output,
// NoOutputClient[In] for those without.
func typed(j Job, withOutput, withoutOutput string) *jen.Statement {
	if j.Output == nil {
		return jen.Qual(RuntimePath, withoutOutput).Types(jen.Id(j.Name))
	}
	return jen.Qual(RuntimePath, withOutput).Types(jen.Id(j.Name), output(j))
}

// ID declares the job's id type, an alias of the runtime's generic id of
// the job's input: the kind's handles carry it and its client's WaitFor,
// Get, Abort and Progress take it, so another kind's id does not compile.
func ID(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	docf(f, "%s is the id of %s %s job. Convert a plain id with %s(n) and back with int64(id).", n.ID, article(j.Name), j.Name, n.ID)
	f.Type().Id(n.ID).Op("=").Qual(RuntimePath, "ID").Types(jen.Id(j.Name))
}

// Handle declares the job's handle, an alias of the runtime's generic
// handle: a submitted job's id with typed Wait, Abort and Progress.
func Handle(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	docf(f, "%s refers to one submitted %s job. Submit returns it; the zero value is not usable.", n.Handle, j.Name)
	f.Type().Id(n.Handle).Op("=").Add(typed(j, "KindHandle", "NoOutputHandle"))
}

// Client declares the job's typed client, an alias of the runtime's generic
// client, and its constructor.
func Client(f *jen.File, j Job) {
	n := NamesOf(j.Name)
	docf(f, "%s submits, aborts and observes %s jobs.", n.Client, j.Name)
	f.Type().Id(n.Client).Op("=").Add(typed(j, "KindClient", "NoOutputClient"))
	f.Line()

	newClient := "NewKindClient"
	if j.Output == nil {
		newClient = "NewNoOutputClient"
	}
	docf(f, "%s returns %s %s that works through c.", n.NewClient, article(n.Client), n.Client)
	f.Func().Id(n.NewClient).Params(jen.Id("c").Op("*").Qual(RuntimePath, "Client")).Id(n.Client).Block(
		jen.Return(jen.Qual(RuntimePath, newClient).Call(jen.Id(n.Kind), jen.Id("c"))),
	)
}
