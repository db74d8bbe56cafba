package builtin

import "github.com/syscope/syscope/chisel"

// The top-N chisels: a table_generator with fixed columns, or the CPU tables.

const pcNote = " With -pc or -pcontainer the table also shows the container."

// Filters of the top-N chisels.
const (
	fileIO = "fd.type=file and evt.is_io=true"
	netIO  = "(fd.type=ipv4 or fd.type=ipv6) and evt.is_io=true"
)

// procKeys are the key columns of the per-process tables, and with -pc.
var (
	procKeys   = viz{keyFlds: []string{"proc.name", "proc.pid"}, keyDescs: []string{"Process", "PID"}}
	procKeysPC = viz{keyFlds: []string{"proc.name", "proc.pid", "thread.vtid", "container.name"},
		keyDescs: []string{"Process", "Host_pid", "Container_pid", "container.name"}}
)

// withValue returns the key columns of k with a value column.
func withValue(k viz, fld, desc, units string, top int) viz {
	k.valueFld, k.valueDesc, k.units, k.top = fld, desc, units, top
	return k
}

func keys(flds, descs []string) viz { return viz{keyFlds: flds, keyDescs: descs} }

// topChisel describes a table_generator chisel.
type topChisel struct {
	name, category, short, desc string
	vz                          viz
	pc                          *viz
	filter                      string
}

func registerTop(t topChisel) {
	d := chisel.Desc{Name: t.name, Category: t.category, ShortDesc: t.short, Description: t.desc}
	register(d, func(d *chisel.Desc) chisel.Program {
		g := newTableGen(d, t.vz, t.filter)
		g.pcViz = t.pc
		return g
	})
}

func vizPtr(v viz) *viz { return &v }

func init() {
	register(chisel.Desc{
		Name: "table_generator", Category: "Filter", Hidden: true,
		ShortDesc:   "Sum a value by key fields",
		Description: "Sums the value field over the events that match the filter, grouped by the key fields, and prints the top rows sorted by that sum.",
		Args: []chisel.Arg{
			{Name: "keys", Type: "string", Desc: "the fields that make the key, separated by commas"},
			{Name: "keydescs", Type: "string", Desc: "the column titles of the key fields, separated by commas"},
			{Name: "value", Type: "string", Desc: "the field summed for each key"},
			{Name: "valuedesc", Type: "string", Desc: "the column title of the value"},
			{Name: "filter", Type: "string", Desc: "the events to count"},
			{Name: "top_number", Type: "string", Desc: "how many rows to print (0: all)"},
			{Name: "value_units", Type: "string", Desc: "how values are written: 'bytes', 'time', 'timepct' or 'none'"},
		},
	}, func(d *chisel.Desc) chisel.Program { return newTableGen(d, viz{units: unitsNone}, "") })

	for _, t := range []topChisel{
		{name: "topfiles_bytes", category: "I/O", short: "Files by bytes read and written",
			desc:   "Lists the files that moved the most bytes, reads and writes together." + pcNote,
			vz:     withValue(keys([]string{"fd.name"}, []string{"Filename"}), "evt.rawarg.res", "Bytes", unitsBytes, 10),
			pc:     vizPtr(withValue(keys([]string{"container.name", "fd.name"}, []string{"container.name", "Filename"}), "evt.rawarg.res", "Bytes", unitsBytes, 10)),
			filter: fileIO},
		{name: "topfiles_time", category: "I/O", short: "Files by time spent in I/O",
			desc:   "Lists the files on which processes spent the most time reading and writing." + pcNote,
			vz:     withValue(keys([]string{"fd.name"}, []string{"Filename"}), "evt.latency", "Time", unitsTime, 10),
			pc:     vizPtr(withValue(keys([]string{"fd.name", "container.name"}, []string{"Filename", "container.name"}), "evt.latency", "Time", unitsTime, 10)),
			filter: fileIO},
		{name: "topfiles_errors", category: "Errors", short: "Files by number of failed calls",
			desc:   "Lists the files on which the most system calls failed." + pcNote,
			vz:     withValue(keys([]string{"fd.name"}, []string{"Filename"}), "evt.count", "#Errors", unitsNone, 100),
			pc:     vizPtr(withValue(keys([]string{"fd.name", "container.name"}, []string{"Filename", "container.name"}), "evt.count", "#Errors", unitsNone, 100)),
			filter: "fd.type=file and evt.failed=true"},
		{name: "topprocs_file", category: "I/O", short: "Processes by file bytes read and written",
			desc:   "Lists the processes that read and wrote the most bytes to files." + pcNote,
			vz:     withValue(procKeys, "evt.rawarg.res", "Bytes", unitsBytes, 10),
			pc:     vizPtr(withValue(procKeysPC, "evt.rawarg.res", "Bytes", unitsBytes, 10)),
			filter: fileIO},
		{name: "topprocs_net", category: "Net", short: "Processes by network bytes",
			desc:   "Lists the processes that sent and received the most bytes on IPv4 and IPv6 sockets." + pcNote,
			vz:     withValue(procKeys, "evt.rawarg.res", "Bytes", unitsBytes, 100),
			pc:     vizPtr(withValue(procKeysPC, "evt.rawarg.res", "Bytes", unitsBytes, 100)),
			filter: netIO},
		{name: "topprocs_errors", category: "Errors", short: "Processes by number of failed calls",
			desc:   "Lists the processes whose system calls failed the most times." + pcNote,
			vz:     withValue(procKeys, "evt.count", "#Errors", unitsNone, 100),
			pc:     vizPtr(withValue(procKeysPC, "evt.count", "#Errors", unitsNone, 100)),
			filter: "evt.failed=true"},
		{name: "topconns", category: "Net", short: "Connections by bytes",
			desc:   "Lists the network connections that carried the most bytes, both directions together." + pcNote,
			vz:     withValue(keys([]string{"fd.l4proto", "fd.name"}, []string{"Proto", "Conn"}), "evt.rawarg.res", "Bytes", unitsBytes, 30),
			pc:     vizPtr(withValue(keys([]string{"container.name", "fd.l4proto", "fd.name"}, []string{"container.name", "Proto", "Conn"}), "evt.rawarg.res", "Bytes", unitsBytes, 30)),
			filter: netIO},
		{name: "topports_server", category: "Net", short: "Server ports by bytes",
			desc:   "Lists the TCP and UDP server ports that carried the most bytes, both directions together." + pcNote,
			vz:     withValue(keys([]string{"fd.sport"}, []string{"Srv Port"}), "evt.rawarg.res", "Bytes", unitsBytes, 100),
			pc:     vizPtr(withValue(keys([]string{"fd.sport", "container.name"}, []string{"Srv Port", "container.name"}), "evt.rawarg.res", "Bytes", unitsBytes, 100)),
			filter: netIO},
		{name: "topscalls", category: "Performance", short: "System calls by number of calls",
			desc:   "Lists the 30 system calls made the most times; a filter narrows it to a process, a thread or a file." + pcNote,
			vz:     withValue(keys([]string{"evt.type"}, []string{"Syscall"}), "evt.count", "# Calls", unitsNone, 30),
			pc:     vizPtr(withValue(keys([]string{"evt.type", "container.name"}, []string{"Syscall", "container.name"}), "evt.count", "# Calls", unitsNone, 30)),
			filter: "evt.type!=switch"},
		{name: "topscalls_time", category: "Performance", short: "System calls by time spent in them",
			desc: "Lists the 30 system calls in which the most time went; a filter narrows it to a process, a thread or a file." + pcNote,
			vz:   withValue(keys([]string{"evt.type"}, []string{"Syscall"}), "evt.latency", "Time", unitsTime, 30),
			pc:   vizPtr(withValue(keys([]string{"evt.type", "container.name"}, []string{"Syscall", "container.name"}), "evt.latency", "Time", unitsTime, 30))},
		{name: "topcontainers_error", category: "Errors", short: "Containers by number of failed calls",
			desc:   "Lists the containers whose system calls failed the most times.",
			vz:     withValue(keys([]string{"container.name"}, []string{"container.name"}), "evt.count", "#Errors", unitsNone, 100),
			filter: "evt.failed=true and container.name!=host"},
		{name: "topcontainers_file", category: "I/O", short: "Containers by file bytes read and written",
			desc:   "Lists the containers that read and wrote the most bytes to files.",
			vz:     withValue(keys([]string{"container.name"}, []string{"container.name"}), "evt.rawarg.res", "Bytes", unitsBytes, 10),
			filter: fileIO + " and container.name!=host"},
		{name: "topcontainers_net", category: "Net", short: "Containers by network bytes",
			desc:   "Lists the containers that sent and received the most bytes on IPv4 and IPv6 sockets.",
			vz:     withValue(keys([]string{"container.name"}, []string{"container.name"}), "evt.rawarg.res", "Bytes", unitsBytes, 100),
			filter: netIO + " and container.name!=host"},
	} {
		registerTop(t)
	}

	keyArg := []chisel.Arg{{Name: "key", Type: "string", Desc: "the field (or fields, separated by commas) to group by"}}
	register(chisel.Desc{Name: "fdbytes_by", Category: "I/O", ShortDesc: "I/O bytes grouped by any field",
		Description: "Sums the bytes of successful reads and writes on any fd by the given field, e.g. proc.name or fd.sport, and lists the 30 keys that moved the most.",
		Args:        keyArg,
	}, func(d *chisel.Desc) chisel.Program {
		return newTableGen(d, viz{valueFld: "evt.rawarg.res", valueDesc: "Bytes", units: unitsBytes, top: 30}, "evt.is_io=true and evt.failed=false")
	})
	register(chisel.Desc{Name: "fdtime_by", Category: "I/O", ShortDesc: "I/O time grouped by any field",
		Description: "Sums the time spent reading and writing any fd by the given field, e.g. proc.name or fd.name, and lists the 10 keys where the most time went.",
		Args:        keyArg,
	}, func(d *chisel.Desc) chisel.Program {
		return newTableGen(d, viz{valueFld: "evt.latency", valueDesc: "Time", units: unitsTime, top: 10}, "evt.is_io=true")
	})

	register(chisel.Desc{Name: "topprocs_cpu", Category: "CPU Usage", ShortDesc: "Processes by CPU use",
		Description: "Lists the processes that used the most CPU, as a percentage of the time, from the procinfo events." + pcNote,
	}, func(d *chisel.Desc) chisel.Program {
		return &cpuTop{base: base{desc: d}, tab: newTopTable(),
			vz: withValue(procKeys, "thread.exectime", "CPU%", unitsTimePct, 10),
			pcViz: vizPtr(withValue(viz{keyFlds: []string{"proc.name", "proc.pid", "proc.vpid", "container.name"},
				keyDescs: []string{"Process", "Host_pid", "Container_pid", "container.name"}}, "thread.exectime", "CPU%", unitsTimePct, 10))}
	})
	register(chisel.Desc{Name: "topcontainers_cpu", Category: "CPU Usage", ShortDesc: "Containers by CPU use",
		Description: "Lists the containers that used the most CPU, as a percentage of the time, from the procinfo events.",
	}, func(d *chisel.Desc) chisel.Program {
		return &cpuTop{base: base{desc: d}, tab: newTopTable(),
			vz: withValue(keys([]string{"container.name"}, []string{"container.name"}), "thread.exectime", "CPU%", unitsTimePct, 10)}
	})
}
