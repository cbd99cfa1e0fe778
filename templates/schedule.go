package templates

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Periodic declares, for a periodic job, the marker's schedule and the
// typed registration of a schedule of the job; Register stores the
// marker's schedule (see PeriodicRegistration). It adds nothing for other
// jobs.
func Periodic(f *jen.File, j Job) {
	if j.Schedule == nil {
		return
	}
	n := NamesOf(j.Name)
	docf(f, "%s is the schedule the marker of %s declares: %s. %s stores it as schedule %q, with zero-value arguments.",
		scheduleVar(j), j.Name, describeSchedule(j.Schedule), RegisterName, j.Kind)
	f.Var().Id(scheduleVar(j)).Op("=").Add(scheduleSpec(j.Schedule))
	f.Line()

	docf(f, "%s makes srv store schedule name as it starts: a %s job with args at every tick of spec. It fails when the schedule is invalid, the name is already registered on srv or srv has started.", n.RegisterSchedule, j.Name)
	f.Func().Id(n.RegisterSchedule).Params(
		jen.Id("srv").Op("*").Qual(RuntimePath, "Server"),
		jen.Id("name").String(),
		jen.Id("spec").Qual(RuntimePath, "Spec"),
		jen.Id("args").Id(j.Name),
		jen.Id("opts").Op("*").Qual(RuntimePath, "ScheduleOpts"),
	).Error().Block(
		jen.Return(jen.Id(n.Kind).Dot("RegisterSchedule").Call(jen.Id("srv"), jen.Id("name"), jen.Id("spec"), jen.Id("args"), jen.Id("opts"))),
	)
}

// PeriodicRegistration adds to Register's body g the registration of a
// periodic job's marker schedule, named after its kind.
func PeriodicRegistration(g *jen.Group, j Job) {
	if j.Schedule == nil {
		return
	}
	opts := jen.Nil()
	if j.Schedule.TimeZone != "" {
		opts = jen.Op("&").Qual(RuntimePath, "ScheduleOpts").Values(jen.Id("TimeZone").Op(":").Lit(j.Schedule.TimeZone))
	}
	g.If(
		jen.Err().Op(":=").Id(NamesOf(j.Name).RegisterSchedule).Call(
			jen.Id("srv"), jen.Id(NamesOf(j.Name).Kind).Dot("Name").Call(), jen.Id(scheduleVar(j)), jen.Id(j.Name).Values(), opts),
		jen.Err().Op("!=").Nil(),
	).Block(jen.Return(jen.Err()))
}

// scheduleVar names the variable that holds a job's marker schedule.
func scheduleVar(j Job) string { return j.Name + "Schedule" }

func scheduleSpec(s *Schedule) *jen.Statement {
	if s.Every != 0 {
		return jen.Qual(RuntimePath, "Every").Call(duration(s.Every))
	}
	return jen.Qual(RuntimePath, "Cron").Call(jen.Lit(s.Cron))
}

func describeSchedule(s *Schedule) string {
	switch {
	case s.Every != 0:
		return "every " + s.Every.String()
	case s.TimeZone != "":
		return fmt.Sprintf("cron %q in %s", s.Cron, s.TimeZone)
	}
	return fmt.Sprintf("cron %q in UTC", s.Cron)
}

// scheduleNote is what Register's doc says of the package's periodic jobs.
func scheduleNote(p Package) string {
	for _, j := range p.Jobs {
		if j.Schedule != nil {
			return ", and stores the schedules the markers of its periodic jobs declare"
		}
	}
	return ""
}
