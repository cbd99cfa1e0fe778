package main

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/jobgen/jobgen/runtime/storage"
	"github.com/jobgen/jobgen/templates"
)

// A modeler turns one loaded package into the templates model and checks
// everything that would make the generated code wrong.
type modeler struct {
	fset  *token.FileSet
	pkg   *loadedPackage
	dir   string // diagnostics' paths are relative to it
	diags diagnostics
}

// A target is what a doc comment documents.
type target struct {
	spec *ast.TypeSpec // the type spec, when the doc is a type's
	desc string        // what the doc documents, for messages about non-structs
}

// A found job is an annotated type spec and its marker, before checks.
type found struct {
	spec   *ast.TypeSpec
	file   *ast.File
	marker *marker
}

// buildModel returns the model of pkg's jobs, sorted by name, and the problems
// found; the model is only meaningful when there are none.
func buildModel(fset *token.FileSet, pkg *loadedPackage, dir string) (templates.Package, diagnostics) {
	m := &modeler{fset: fset, pkg: pkg, dir: dir}
	out := templates.Package{Path: pkg.PkgPath, Name: pkg.Name}
	var jobs []found
	for _, f := range pkg.Syntax {
		if isGenerated(fset.Position(f.Pos()).Filename) {
			continue
		}
		jobs = append(jobs, m.markers(f)...)
	}
	kinds := map[string]found{}
	for _, fj := range jobs {
		j, ok := m.job(fj)
		if !ok {
			continue
		}
		if prev, dup := kinds[j.Kind]; dup {
			pos := fj.spec.Name.Pos()
			if fj.marker.Kind.Set {
				pos = fj.marker.Kind.Pos
			}
			m.diags.add(fset, pos, "kind %q is already used by %s at %s", j.Kind, prev.spec.Name.Name, m.where(prev.spec.Name.Pos()))
			continue
		}
		kinds[j.Kind] = fj
		out.Jobs = append(out.Jobs, j)
	}
	slices.SortFunc(out.Jobs, func(a, b templates.Job) int { return strings.Compare(a.Name, b.Name) })
	if len(out.Jobs) > 0 {
		m.checkNames(out)
	}
	return out, m.diags
}

// where formats pos as file:line:col for use inside a message.
func (m *modeler) where(pos token.Pos) string {
	p := m.fset.Position(pos)
	return fmt.Sprintf("%s:%d:%d", relPath(m.dir, p.Filename), p.Line, p.Column)
}

// markers finds the //jobgen: directives of f, reports those that are
// malformed or annotate something other than a type, and returns the
// annotated type specs.
func (m *modeler) markers(f *ast.File) []found {
	docs := docTargets(f)
	var out []found
	annotated := map[*ast.TypeSpec]bool{}
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if !isDirectiveLine(c.Text) {
				continue
			}
			mk, diags := parseMarker(m.fset, c)
			m.diags = append(m.diags, diags...)
			if mk == nil {
				continue
			}
			t, ok := docs[cg]
			switch {
			case !ok:
				m.diags.add(m.fset, c.Slash, "%s must be in the doc comment of a struct type", directive)
			case t.spec == nil:
				m.diags.add(m.fset, c.Slash, "%s must annotate a struct type, not %s", directive, t.desc)
			case annotated[t.spec]:
				m.diags.add(m.fset, c.Slash, "repeated %s directive on %s", directive, t.spec.Name.Name)
			default:
				annotated[t.spec] = true
				out = append(out, found{spec: t.spec, file: f, marker: mk})
			}
		}
	}
	return out
}

// docTargets maps every doc comment of f to what it documents.
func docTargets(f *ast.File) map[*ast.CommentGroup]target {
	docs := map[*ast.CommentGroup]target{}
	add := func(cg *ast.CommentGroup, t target) {
		if cg != nil {
			docs[cg] = t
		}
	}
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				add(d.Doc, target{desc: "method " + d.Name.Name})
			} else {
				add(d.Doc, target{desc: "func " + d.Name.Name})
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					t := target{spec: s}
					add(s.Doc, t)
					if len(d.Specs) == 1 {
						add(d.Doc, t)
					}
				case *ast.ValueSpec:
					t := target{desc: d.Tok.String() + " " + s.Names[0].Name}
					add(s.Doc, t)
					if len(d.Specs) == 1 {
						add(d.Doc, t)
					}
				case *ast.ImportSpec:
					add(s.Doc, target{desc: "an import"})
				}
			}
			if _, ok := docs[d.Doc]; !ok && d.Doc != nil {
				desc := "a " + d.Tok.String() + " declaration"
				if d.Tok == token.TYPE {
					desc = "a type group (annotate the type inside the parentheses)"
				}
				add(d.Doc, target{desc: desc})
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if len(n.Names) > 0 {
				add(n.Doc, target{desc: "field " + n.Names[0].Name})
			}
		case *ast.DeclStmt:
			if d, ok := n.Decl.(*ast.GenDecl); ok && len(d.Specs) > 0 {
				desc := "a local declaration (jobs are declared at package level)"
				if ts, ok := d.Specs[0].(*ast.TypeSpec); ok {
					desc = "local type " + ts.Name.Name + " (jobs are declared at package level)"
					add(ts.Doc, target{desc: desc})
				}
				add(d.Doc, target{desc: desc})
			}
		}
		return true
	})
	return docs
}

// job checks one annotated type and returns its model.
func (m *modeler) job(fj found) (templates.Job, bool) {
	spec, mk := fj.spec, fj.marker
	name := spec.Name.Name
	obj, _ := m.pkg.TypesInfo.Defs[spec.Name].(*types.TypeName)
	if obj == nil {
		return templates.Job{}, false // a type error, reported by load
	}
	st, isStruct := obj.Type().Underlying().(*types.Struct)
	switch {
	case spec.Assign.IsValid() || !isStruct:
		m.diags.add(m.fset, mk.Pos, "%s must annotate a struct type, not %s", directive, describeType(spec))
		return templates.Job{}, false
	case spec.TypeParams != nil:
		m.diags.add(m.fset, spec.Name.Pos(), "generic type %s cannot be a job: want a struct type without type parameters", name)
		return templates.Job{}, false
	case !ast.IsExported(name):
		m.diags.add(m.fset, spec.Name.Pos(), "unexported type %s cannot be a job: want an exported struct type", name)
		return templates.Job{}, false
	}
	before := len(m.diags)
	j := templates.Job{
		Name:        name,
		Source:      filepath.Base(m.fset.Position(fj.file.Pos()).Filename),
		Kind:        snakeCase(name),
		Queue:       "default",
		Priority:    mk.Priority.Value,
		HasPriority: mk.Priority.Set,
		Attempts:    mk.Attempts.Value,
		Timeout:     mk.Timeout.Value,
		Backoff:     mk.Backoff.Value,
		UniqueFor:   mk.UniqueFor.Value,
	}
	if mk.Kind.Set {
		j.Kind = mk.Kind.Value
	} else if !storage.ValidName(j.Kind) {
		m.diags.add(m.fset, spec.Name.Pos(), "kind %q derived from the type name is not a valid name: set kind= to %s", j.Kind, lookupKey("kind").Want)
	}
	if mk.Queue.Set {
		j.Queue = mk.Queue.Value
	}
	m.checkFields(obj, st)
	if mk.Output.Set {
		j.Output = m.output(fj.file, mk.Output)
	}
	if mk.Unique.Set {
		j.Unique = m.unique(obj, mk.Unique)
	}
	if mk.Every.Set || mk.Cron.Set {
		j.Schedule = &templates.Schedule{Every: mk.Every.Value, Cron: mk.Cron.Value, TimeZone: mk.TZ.Value}
	}
	return j, len(m.diags) == before
}

// describeType says what a non-struct type spec declares.
func describeType(spec *ast.TypeSpec) string {
	expr := types.ExprString(spec.Type)
	if len(expr) > 40 {
		expr = expr[:37] + "..."
	}
	if spec.Assign.IsValid() {
		return "alias " + spec.Name.Name + " = " + expr
	}
	return "type " + spec.Name.Name + " " + expr
}

// snakeCase derives a kind name from a type name: SendEmail → send_email,
// HTTPRequest → http_request.
func snakeCase(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// checkFields reports the fields of a job struct that JSON cannot encode.
func (m *modeler) checkFields(obj *types.TypeName, st *types.Struct) {
	for i := range st.NumFields() {
		f := st.Field(i)
		if !jsonField(f, st.Tag(i)) {
			continue
		}
		seen := map[*types.Named]bool{}
		if named, ok := types.Unalias(obj.Type()).(*types.Named); ok {
			seen[named] = true
		}
		if p := m.unencodable(f.Type(), f.Name(), seen); p != nil {
			m.diags.add(m.fset, f.Pos(), "field %s: %s", f.Name(), p.message(f.Name()))
		}
	}
}

// jsonField reports whether encoding/json encodes field f with tag.
func jsonField(f *types.Var, tag string) bool {
	if name, _, _ := strings.Cut(reflectTag(tag, "json"), ","); name == "-" && !strings.HasPrefix(reflectTag(tag, "json"), "-,") {
		return false
	}
	if f.Embedded() {
		t := types.Unalias(f.Type())
		if p, ok := t.(*types.Pointer); ok {
			t = types.Unalias(p.Elem())
		}
		if _, ok := t.Underlying().(*types.Struct); ok {
			return true // json promotes the exported fields of embedded structs
		}
	}
	return f.Exported()
}

// reflectTag is reflect.StructTag.Get without reflect.
func reflectTag(tag, key string) string {
	for tag != "" {
		i := 0
		for i < len(tag) && tag[i] == ' ' {
			i++
		}
		tag = tag[i:]
		i = 0
		for i < len(tag) && tag[i] > ' ' && tag[i] != ':' && tag[i] != '"' && tag[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(tag) || tag[i] != ':' || tag[i+1] != '"' {
			return ""
		}
		name := tag[:i]
		tag = tag[i+1:]
		i = 1
		for i < len(tag) && tag[i] != '"' {
			if tag[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(tag) {
			return ""
		}
		qvalue := tag[:i+1]
		tag = tag[i+1:]
		if name == key {
			v, err := strconv.Unquote(qvalue)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// A jsonProblem says which part of a type encoding/json rejects.
type jsonProblem struct {
	what string // "type func()" or "map key type complex128"
	path string // the value that has it, such as Opts.Hook
	hint string
}

// message describes p inside the value called top.
func (p *jsonProblem) message(top string) string {
	s := p.what
	if p.path != top {
		s += " of " + p.path
	}
	s += " cannot be encoded as JSON"
	if p.hint != "" {
		s += " (" + p.hint + ")"
	}
	return s
}

// unencodable returns why encoding/json cannot encode t, or nil. path names
// the value of type t for messages; seen breaks cycles through named types.
func (m *modeler) unencodable(t types.Type, path string, seen map[*types.Named]bool) *jsonProblem {
	t = types.Unalias(t)
	if named, ok := t.(*types.Named); ok {
		if seen[named] || m.marshals(named) {
			return nil
		}
		seen[named] = true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		if u.Info()&types.IsComplex != 0 || u.Kind() == types.UnsafePointer {
			return &jsonProblem{what: "type " + m.typeString(t), path: path}
		}
	case *types.Chan, *types.Signature:
		return &jsonProblem{what: "type " + m.typeString(t), path: path}
	case *types.Pointer:
		return m.unencodable(u.Elem(), path, seen)
	case *types.Slice:
		return m.unencodable(u.Elem(), path, seen)
	case *types.Array:
		return m.unencodable(u.Elem(), path, seen)
	case *types.Map:
		if !m.mapKey(u.Key()) {
			return &jsonProblem{what: "map key type " + m.typeString(u.Key()), path: path,
				hint: "want a string, an integer or an encoding.TextMarshaler"}
		}
		return m.unencodable(u.Elem(), path, seen)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			if !jsonField(f, u.Tag(i)) {
				continue
			}
			if p := m.unencodable(f.Type(), path+"."+f.Name(), seen); p != nil {
				return p
			}
		}
	}
	return nil
}

// typeString formats t for messages, qualifying other packages' names by
// package name.
func (m *modeler) typeString(t types.Type) string {
	return types.TypeString(t, func(p *types.Package) string {
		if p == m.pkg.Types {
			return ""
		}
		return p.Name()
	})
}

// marshals reports whether t or *t has a MarshalJSON or MarshalText
// method, so that encoding/json does not look inside it.
func (m *modeler) marshals(t *types.Named) bool {
	ms := types.NewMethodSet(types.NewPointer(t))
	return ms.Lookup(nil, "MarshalJSON") != nil || ms.Lookup(nil, "MarshalText") != nil
}

// mapKey reports whether encoding/json accepts t as a map key.
func (m *modeler) mapKey(t types.Type) bool {
	if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&(types.IsString|types.IsInteger) != 0 {
		return true
	}
	return types.NewMethodSet(t).Lookup(nil, "MarshalText") != nil
}

// output resolves the output= type: a type of the package, or pkg.Type of
// a package that file imports.
func (m *modeler) output(file *ast.File, a arg[string]) *templates.Type {
	pkgName, name, qualified := strings.Cut(a.Value, ".")
	var obj types.Object
	if !qualified {
		name = pkgName
		obj = m.pkg.Types.Scope().Lookup(name)
		if obj == nil {
			obj = types.Universe.Lookup(name) // string, int, any, ...
		}
		if _, ok := obj.(*types.TypeName); !ok && obj != nil {
			m.diags.add(m.fset, a.Pos, "output: %s is not a type: want a type name", name)
			return nil
		} else if !ok {
			m.diags.add(m.fset, a.Pos, "output: no type %s in package %s", name, m.pkg.Name)
			return nil
		}
	} else {
		imported := m.imported(file, pkgName)
		if imported == nil {
			m.diags.add(m.fset, a.Pos, "output: %s is not a package that %s imports", pkgName, filepath.Base(m.fset.Position(file.Pos()).Filename))
			return nil
		}
		obj = imported.Scope().Lookup(name)
		if tn, ok := obj.(*types.TypeName); !ok || !tn.Exported() {
			m.diags.add(m.fset, a.Pos, "output: no exported type %s in package %s", name, imported.Path())
			return nil
		}
	}
	tn := obj.(*types.TypeName)
	if named, ok := types.Unalias(tn.Type()).(*types.Named); ok && named.TypeParams().Len() > 0 && named.TypeArgs().Len() == 0 {
		m.diags.add(m.fset, a.Pos, "output: generic type %s needs type arguments: want a type without type parameters", a.Value)
		return nil
	}
	if iface, ok := tn.Type().Underlying().(*types.Interface); ok && !iface.Empty() {
		m.diags.add(m.fset, a.Pos, "output: want a concrete type, got interface %s", a.Value)
		return nil
	}
	if p := m.unencodable(tn.Type(), a.Value, map[*types.Named]bool{}); p != nil {
		m.diags.add(m.fset, a.Pos, "output: %s", p.message(""))
		return nil
	}
	if tn.Pkg() == nil {
		return &templates.Type{Name: tn.Name()} // a predeclared type
	}
	return &templates.Type{Path: tn.Pkg().Path(), PkgName: tn.Pkg().Name(), Name: tn.Name()}
}

// imported returns the package that file imports under name, or nil.
func (m *modeler) imported(file *ast.File, name string) *types.Package {
	for _, spec := range file.Imports {
		pn := m.pkg.TypesInfo.PkgNameOf(spec)
		if pn != nil && pn.Name() == name {
			return pn.Imported()
		}
	}
	return nil
}

// unique resolves the unique= fields: exported fields of the job struct,
// each named once.
func (m *modeler) unique(obj *types.TypeName, a arg[[]string]) []templates.Field {
	var out []templates.Field
	pos := a.Pos
	seen := map[string]bool{}
	for _, name := range a.Value {
		here := pos
		pos += token.Pos(len(name) + 1)
		if seen[name] {
			m.diags.add(m.fset, here, "unique: field %s repeated", name)
			continue
		}
		seen[name] = true
		v, _, _ := types.LookupFieldOrMethod(obj.Type(), false, obj.Pkg(), name)
		f, ok := v.(*types.Var)
		if !ok || !f.IsField() {
			var fields []string
			st := obj.Type().Underlying().(*types.Struct)
			for i := range st.NumFields() {
				if st.Field(i).Exported() {
					fields = append(fields, st.Field(i).Name())
				}
			}
			if s := suggestField(name, fields); s != "" {
				m.diags.add(m.fset, here, "unique: %s has no field %s (did you mean %s?)", obj.Name(), name, s)
			} else {
				m.diags.add(m.fset, here, "unique: %s has no field %s", obj.Name(), name)
			}
			continue
		}
		if !f.Exported() {
			m.diags.add(m.fset, here, "unique: field %s is unexported: want an exported field", name)
			continue
		}
		if p := m.unencodable(f.Type(), name, map[*types.Named]bool{}); p != nil {
			m.diags.add(m.fset, here, "unique: %s", p.message(""))
			continue
		}
		out = append(out, templates.Field{Name: name})
	}
	return out
}

// suggestField is suggest for Go names, which keep their case.
func suggestField(name string, fields []string) string {
	best, bestDist := "", 3
	for _, f := range fields {
		if d := editDistance(strings.ToLower(name), strings.ToLower(f)); d < bestDist && d < len(f) {
			best, bestDist = f, d
		}
	}
	return best
}

// checkNames reports package-level declarations that clash with the names
// jobgen generates for p.
func (m *modeler) checkNames(p templates.Package) {
	owner := map[string]string{
		templates.HandlersName:   "",
		templates.RegisterName:   "",
		templates.ClientsName:    "",
		templates.NewClientsName: "",
	}
	for _, j := range p.Jobs {
		n := templates.NamesOf(j.Name)
		for _, id := range n.Declared() {
			owner[id] = j.Name
		}
	}
	// The generated files' imports share the package's scope.
	imports := map[string]string{"context": "context", "errors": "errors", "runtime": templates.RuntimePath}
	for _, j := range p.Jobs {
		if j.Timeout != 0 || j.Backoff != 0 || j.UniqueFor != 0 {
			imports["time"] = "time"
		}
		if o := j.Output; o != nil && o.Path != "" && o.Path != p.Path {
			imports[o.PkgName] = o.Path
		}
	}
	scope := m.pkg.Types.Scope()
	for _, id := range scope.Names() {
		obj := scope.Lookup(id)
		if isGenerated(m.fset.Position(obj.Pos()).Filename) {
			continue
		}
		if path, ok := imports[id]; ok {
			m.diags.add(m.fset, obj.Pos(), "%s clashes with the import of %q in the code that jobgen generates: rename it", id, path)
			continue
		}
		job, ok := owner[id]
		if !ok {
			continue
		}
		if job == "" {
			m.diags.add(m.fset, obj.Pos(), "%s clashes with the %s that jobgen generates for the package's jobs: rename it", id, id)
		} else {
			m.diags.add(m.fset, obj.Pos(), "%s clashes with the %s that jobgen generates for job %s: rename one of them", id, id, job)
		}
	}
}
