package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"

	sc "github.com/silentcert/silentcert"
	"github.com/silentcert/silentcert/models"
)

// loadModel reads a model file ("builtin": the built-in defaults) into a model over the
// configuration's catalogue.
func loadModel(path string, cfg *sc.Config) (*models.Model, error) {
	p, err := loadParams(path)
	if err != nil {
		return nil, err
	}
	return models.New(p, cfg.Catalogue, cfg.Policy.HealthPeriod), nil
}

// loadParams reads a model file's parameters ("builtin": the built-in defaults).
func loadParams(path string) (*models.Params, error) {
	if path == "builtin" {
		return models.Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := models.Parse(b)
	if err != nil {
		return nil, sc.Errorf(sc.EInvalid, "%s: %v", path, err)
	}
	return p, nil
}

// writeModelOutputs writes the models' per-person scores (models.csv) and sampled trace
// scores (scores.csv: the trace score p_dead, the RISK score risk, the features and, last,
// clock: 1 for a trace the fortnight clock sampled, 0 for one kept only because its RISK
// score reached the threshold) beside the backtest's outputs, for evaluate and train.
// evaluate fits its ROC and calibration to the clock's traces alone: the others are a
// sample chosen by the score itself.
func writeModelOutputs(dir string, col *models.Collector) error {
	write := func(name string, rows func(w *bufio.Writer)) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		rows(w)
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	ff := func(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', 5, 64) }
	date := func(b []byte, d sc.Date) []byte {
		if d == sc.NoDate {
			return b
		}
		return d.AppendTo(b)
	}
	if err := write("models.csv", func(w *bufio.Writer) {
		w.WriteString("person_id,health,risk_max,risk_max_day,first_flag\n")
		var b []byte
		for _, p := range col.People(nil) {
			b = append(b[:0], p.Person...)
			b = append(b, ',')
			if p.HasHealth {
				b = ff(b, p.Health)
			}
			b = append(b, ',')
			b = ff(b, p.RiskMax)
			b = append(b, ',')
			b = date(b, p.RiskMaxDay)
			b = append(b, ',')
			b = date(b, p.FirstFlag)
			b = append(b, '\n')
			w.Write(b)
		}
	}); err != nil {
		return err
	}
	return write("scores.csv", func(w *bufio.Writer) {
		w.WriteString("person_id,day,event_date,spoofable,p_dead,risk")
		for _, n := range models.FeatureNames[1:] {
			w.WriteString("," + n)
		}
		w.WriteString(",clock\n")
		var b []byte
		for _, o := range col.Observations() {
			b = append(b[:0], o.Person...)
			b = append(b, ',')
			b = o.Day.AppendTo(b)
			b = append(b, ',')
			b = o.Event.AppendTo(b)
			b = append(b, ',')
			if o.Spoofable {
				b = append(b, '1')
			} else {
				b = append(b, '0')
			}
			b = append(b, ',')
			b = ff(b, o.PDead)
			b = append(b, ',')
			b = ff(b, o.Risk)
			for _, x := range o.X[1:] {
				b = append(b, ',')
				b = strconv.AppendFloat(b, x, 'f', 4, 64)
			}
			if o.Clock {
				b = append(b, ",1\n"...)
			} else {
				b = append(b, ",0\n"...)
			}
			w.Write(b)
		}
	})
}
