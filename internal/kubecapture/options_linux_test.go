//go:build linux

package kubecapture

import (
	"testing"

	"github.com/syscope/syscope/internal/cli"
)

// The plugin's copy of syscope's option table matches syscope's.
func TestSyscopeOptionsTable(t *testing.T) {
	for name, arg := range syscopeOptions {
		known, hasArg := cli.OptionArg(name)
		if !known || hasArg != arg {
			t.Errorf("%s: the plugin says argument %d, syscope says known=%v argument %d", name, arg, known, hasArg)
		}
	}
}
