package templates

import "github.com/dave/jennifer/jen"

// Handlers declares the package's Handlers interface, which embeds every
// job's handler interface, so a type that lacks one does not compile.
func Handlers(f *jen.File, p Package) {
	docf(f, "%s runs every job kind of package %s. %s takes one, so a type that lacks a handler method is a compile error, not a run-time surprise.", HandlersName, p.Name, RegisterName)
	f.Type().Id(HandlersName).InterfaceFunc(func(g *jen.Group) {
		for _, j := range p.Jobs {
			g.Id(NamesOf(j.Name).Handler)
		}
	})
}

// Register declares the package's Register function, which registers a
// Handlers value for every job kind.
func Register(f *jen.File, p Package) {
	docf(f, "%s makes srv run every job kind of package %s with h%s. It stops at the first kind that fails to register and returns that error.", RegisterName, p.Name, scheduleNote(p))
	f.Func().Id(RegisterName).Params(jen.Id("srv").Op("*").Qual(RuntimePath, "Server"), jen.Id("h").Id(HandlersName)).Error().BlockFunc(func(g *jen.Group) {
		for _, j := range p.Jobs {
			g.If(jen.Err().Op(":=").Id(NamesOf(j.Name).Register).Call(jen.Id("srv"), jen.Id("h")), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Err()),
			)
			PeriodicRegistration(g, j)
		}
		g.Return(jen.Nil())
	})
}

// Clients declares the package's Clients struct, one typed client per job,
// and its constructor NewClients.
func Clients(f *jen.File, p Package) {
	docf(f, "%s holds a typed client for every job kind of package %s.", ClientsName, p.Name)
	f.Type().Id(ClientsName).StructFunc(func(g *jen.Group) {
		for _, j := range p.Jobs {
			g.Add(docStmt("%s submits, aborts and observes %s jobs.", j.Name, j.Name))
			g.Id(j.Name).Id(NamesOf(j.Name).Client)
		}
	})
	f.Line()

	docf(f, "%s returns the typed clients of package %s, all working through c.", NewClientsName, p.Name)
	f.Func().Id(NewClientsName).Params(jen.Id("c").Op("*").Qual(RuntimePath, "Client")).Id(ClientsName).Block(
		jen.Return(jen.Id(ClientsName).CustomFunc(jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}, func(g *jen.Group) {
			for _, j := range p.Jobs {
				g.Id(j.Name).Op(":").Id(NamesOf(j.Name).NewClient).Call(jen.Id("c"))
			}
		})),
	)
}
