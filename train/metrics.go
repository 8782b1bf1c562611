package train

import (
	"math"

	"github.com/hypergrid-go/hypergrid/metrics"
)

// ComputeMetric returns the metric called name (a data.Metric* name) on the 0-100 scale
// GLUE reports, computed by package metrics. A correlation that is undefined because one
// side is constant (metrics returns NaN) counts as 0, so a model that predicts one value
// for every example shows as uninformative rather than as a missing number.
func ComputeMetric(name string, pred, ref []float64) (float64, error) {
	v, err := metrics.Compute(name, pred, ref)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) {
		return 0, nil
	}
	return 100 * v, nil
}
