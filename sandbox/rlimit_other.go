//go:build !unix

package sandbox

import (
	"errors"
	"os"
	"time"
)

var errNoLimits = errors.New("custom code workers need a Unix system to limit their memory")

func limitProcess(int64) error { return errNoLimits }

func limitCPU(time.Duration) error { return errNoLimits }

func cpuKilled(*os.ProcessState) bool { return false }
