package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The container JSON of PPME_CONTAINER_JSON_E and PPME_CONTAINER_JSON_2_E
// events: {"container":{...}}, one key per field of Info, written as
// libsinsp writes it (jsoncpp's compact writer: keys sorted bytewise, no
// blanks, only '"', '\\' and control characters escaped, a newline at the
// end). Zero values are written too, except the optional keys (health
// probes, mesos_task_id); labels are null when there are none.

// ExtKey is the key of the container object under which JSON writes Ext.
const ExtKey = "syscope"

// JSON returns the container JSON of x, as sysdig writes it in captures
// (the event parameter is this text and a NUL).
func (x *Info) JSON() []byte {
	c := map[string]any{
		"id":                x.ID,
		"full_id":           x.FullID,
		"type":              int64(x.Type),
		"name":              x.Name,
		"image":             x.Image,
		"imageid":           x.ImageID,
		"imagerepo":         x.ImageRepo,
		"imagetag":          x.ImageTag,
		"imagedigest":       x.ImageDigest,
		"privileged":        x.Privileged,
		"is_pod_sandbox":    x.IsPodSandbox,
		"lookup_state":      int64(x.LookupState),
		"created_time":      x.CreatedTime,
		"ip":                ipString(x.IP),
		"memory_limit":      x.MemoryLimit,
		"swap_limit":        x.SwapLimit,
		"cpu_shares":        x.CPUShares,
		"cpu_quota":         x.CPUQuota,
		"cpu_period":        x.CPUPeriod,
		"cpuset_cpu_count":  int64(x.CPUSetCount),
		"metadata_deadline": x.MetadataDeadline,
	}
	mounts := []any{}
	for _, m := range x.Mounts {
		mounts = append(mounts, map[string]any{
			"Source": m.Source, "Destination": m.Dest, "Mode": m.Mode, "RW": m.RW, "Propagation": m.Propagation,
		})
	}
	c["Mounts"] = mounts
	for _, p := range x.Probes {
		if int(p.Type) >= len(ProbeKeys) {
			continue
		}
		var args any // null without arguments
		if len(p.Args) > 0 {
			a := make([]any, len(p.Args))
			for i, s := range p.Args {
				a[i] = s
			}
			args = a
		}
		c[ProbeKeys[p.Type]] = map[string]any{"exe": p.Exe, "args": args}
	}
	ports := []any{}
	for _, p := range x.PortMappings {
		ports = append(ports, map[string]any{
			"HostIp": uint64(ipUint(p.HostIP)), "HostPort": int64(p.HostPort), "ContainerPort": int64(p.ContainerPort),
		})
	}
	c["port_mappings"] = ports
	var labels any // null without labels
	if len(x.Labels) > 0 {
		l := make(map[string]any, len(x.Labels))
		for k, v := range x.Labels {
			l[k] = v
		}
		labels = l
	}
	c["labels"] = labels
	env := []any{}
	for _, v := range x.Env {
		if strings.Contains(v, "MESOS") || strings.Contains(v, "MARATHON") || strings.Contains(v, "mesos") {
			env = append(env, v)
		}
	}
	c["env"] = env
	if x.MesosTaskID != "" {
		c["mesos_task_id"] = x.MesosTaskID
	}
	if !x.Ext.empty() {
		c[ExtKey] = extValue(&x.Ext)
	}
	b := appendValue(nil, map[string]any{"container": c})
	return append(b, '\n')
}

func extValue(e *Ext) map[string]any {
	m := map[string]any{}
	if e.Source != "" {
		m["source"] = e.Source
	}
	if e.Namespace != "" {
		m["namespace"] = e.Namespace
	}
	if len(e.Cgroups) > 0 {
		a := make([]any, len(e.Cgroups))
		for i, s := range e.Cgroups {
			a[i] = s
		}
		m["cgroups"] = a
	}
	if e.Pid != 0 {
		m["pid"] = uint64(e.Pid)
	}
	if p := e.Pod; p != nil {
		pm := map[string]any{}
		for k, v := range map[string]string{"sandbox_id": p.SandboxID, "name": p.Name, "namespace": p.Namespace, "uid": p.UID, "ip": p.IP} {
			if v != "" {
				pm[k] = v
			}
		}
		if p.HostNet {
			pm["host_network"] = true
		}
		if len(p.Labels) > 0 {
			l := make(map[string]any, len(p.Labels))
			for k, v := range p.Labels {
				l[k] = v
			}
			pm["labels"] = l
		}
		m["pod"] = pm
	}
	return m
}

// appendValue writes v as jsoncpp's FastWriter does.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case string:
		return appendQuoted(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendQuoted(b, k)
			b = append(b, ':')
			b = appendValue(b, v[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("container: no JSON for %T", v))
}

// appendQuoted quotes s as jsoncpp 0.10 does: '"', '\\' and the control
// characters escaped (those without a short form as \u00XX), every other
// byte, including non-ASCII ones, as it is.
func appendQuoted(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// ErrNoContainer is returned by ParseJSON for a JSON document without a
// container id.
var ErrNoContainer = errors.New("container JSON without a container id")

// ParseJSON reads a container JSON ({"container":{...}}), ours or sysdig's.
// Keys whose value has an unexpected JSON type are ignored; a trailing NUL
// is allowed.
func ParseJSON(b []byte) (*Info, error) {
	b = []byte(strings.TrimRight(string(b), "\x00"))
	var root struct {
		Container map[string]json.RawMessage `json:"container"`
	}
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	c := root.Container
	x := NewInfo("", TypeUnknown)
	str := func(k string, dst *string) {
		_ = json.Unmarshal(c[k], dst)
	}
	i64 := func(k string, dst *int64) {
		var f json.Number
		if json.Unmarshal(c[k], &f) == nil {
			if n, err := f.Int64(); err == nil {
				*dst = n
			}
		}
	}
	str("id", &x.ID)
	if x.ID == "" {
		return nil, ErrNoContainer
	}
	str("full_id", &x.FullID)
	var t int64 = -1
	i64("type", &t)
	if t >= 0 && t <= math.MaxInt32 {
		x.Type = Type(t)
	}
	str("name", &x.Name)
	str("image", &x.Image)
	str("imageid", &x.ImageID)
	str("imagerepo", &x.ImageRepo)
	str("imagetag", &x.ImageTag)
	str("imagedigest", &x.ImageDigest)
	_ = json.Unmarshal(c["privileged"], &x.Privileged)
	_ = json.Unmarshal(c["is_pod_sandbox"], &x.IsPodSandbox)
	ls := int64(LookupSuccessful)
	i64("lookup_state", &ls)
	switch LookupState(ls) {
	case LookupStarted, LookupFailed:
		x.LookupState = LookupState(ls)
	}
	i64("created_time", &x.CreatedTime)
	var ip string
	str("ip", &ip)
	x.IP = ipv4(ip)
	i64("memory_limit", &x.MemoryLimit)
	i64("swap_limit", &x.SwapLimit)
	i64("cpu_shares", &x.CPUShares)
	i64("cpu_quota", &x.CPUQuota)
	i64("cpu_period", &x.CPUPeriod)
	var n int64
	if i64("cpuset_cpu_count", &n); n >= math.MinInt32 && n <= math.MaxInt32 {
		x.CPUSetCount = int32(n)
	}
	_ = json.Unmarshal(c["metadata_deadline"], &x.MetadataDeadline)
	str("mesos_task_id", &x.MesosTaskID)
	var mounts []struct {
		Source, Destination, Mode, Propagation string
		RW                                     bool
	}
	if json.Unmarshal(c["Mounts"], &mounts) == nil {
		for _, m := range mounts {
			x.Mounts = append(x.Mounts, Mount{Source: m.Source, Dest: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation})
		}
	}
	var ports []struct {
		HostIP        uint32 `json:"HostIp"`
		HostPort      uint16
		ContainerPort uint16
	}
	if json.Unmarshal(c["port_mappings"], &ports) == nil {
		for _, p := range ports {
			x.PortMappings = append(x.PortMappings, PortMapping{HostIP: ipFromUint(p.HostIP), HostPort: p.HostPort, ContainerPort: p.ContainerPort})
		}
	}
	for t, key := range ProbeKeys {
		var p struct {
			Exe  *string  `json:"exe"`
			Args []string `json:"args"`
		}
		if json.Unmarshal(c[key], &p) == nil && p.Exe != nil {
			x.Probes = append(x.Probes, Probe{Type: ProbeType(t), Exe: *p.Exe, Args: p.Args})
		}
	}
	var labels map[string]string
	if json.Unmarshal(c["labels"], &labels) == nil && len(labels) > 0 {
		x.Labels = labels
	}
	_ = json.Unmarshal(c["env"], &x.Env)
	if raw, ok := c[ExtKey]; ok {
		_ = json.Unmarshal(raw, &x.Ext)
	}
	return x, nil
}
