package cronjob

import (
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// ValidateSchedule checks a schedule as the Kubernetes API server does for
// a CronJob: the standard five-field cron syntax or a @descriptor
// (@hourly, @daily, ...), parsed with the same library, and no TZ= or
// CRON_TZ= prefix (the time zone goes in timeZone).
func ValidateSchedule(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty: want five cron fields (minute hour day-of-month month day-of-week), such as \"30 2 * * *\", or @daily")
	}
	if strings.Contains(s, "TZ") {
		return fmt.Errorf("%q: a time zone in the schedule is not supported by Kubernetes: set timeZone instead", s)
	}
	if _, err := cron.ParseStandard(s); err != nil {
		return fmt.Errorf("%q: %v (want five cron fields: minute hour day-of-month month day-of-week, such as \"30 2 * * *\", or @daily)", s, err)
	}
	return nil
}
