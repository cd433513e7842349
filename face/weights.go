package face

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// param is one named weight tensor of a model, dequantised to float32, in TF.js order
// (convolution filters are [height, width, in, out]).
type param struct {
	shape []int
	d     []float32
}

// weights are a model's parameters by their TF.js names.
type weights map[string]param

// manifestGroup is one entry of a TF.js weights manifest: shards read in order and
// concatenated hold the weights listed, one after another.
type manifestGroup struct {
	Paths   []string `json:"paths"`
	Weights []struct {
		Name         string `json:"name"`
		Shape        []int  `json:"shape"`
		Dtype        string `json:"dtype"`
		Quantization *struct {
			Scale float64 `json:"scale"`
			Min   float64 `json:"min"`
			Dtype string  `json:"dtype"`
		} `json:"quantization"`
	} `json:"weights"`
}

// loadWeights reads dir/NAME-weights_manifest.json and its shards, dequantising
// (value = q*scale + min) as tf.io.decodeWeights does.
func loadWeights(dir, name string) (weights, error) {
	mpath := filepath.Join(dir, name+"-weights_manifest.json")
	raw, err := os.ReadFile(mpath)
	if err != nil {
		return nil, fmt.Errorf("face: model %s: %w (run face/fetch.sh)", name, err)
	}
	var groups []manifestGroup
	if err := json.Unmarshal(raw, &groups); err != nil {
		return nil, fmt.Errorf("face: %s: %w", mpath, err)
	}
	w := weights{}
	for gi, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := os.ReadFile(filepath.Join(dir, filepath.Base(p)))
			if err != nil {
				return nil, fmt.Errorf("face: %s group %d: %w", mpath, gi, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, e := range g.Weights {
			n := 1
			for _, s := range e.Shape {
				n *= s
			}
			d := make([]float32, n)
			size := 4
			dtype := e.Dtype
			if e.Quantization != nil {
				dtype = e.Quantization.Dtype
				size = map[string]int{"uint8": 1, "uint16": 2}[dtype]
			}
			if size == 0 || (e.Quantization == nil && dtype != "float32" && dtype != "int32") {
				return nil, fmt.Errorf("face: %s: weight %s: unsupported dtype %q", mpath, e.Name, dtype)
			}
			if off+n*size > len(buf) {
				return nil, fmt.Errorf("face: %s: weight %s: shards too short (%d bytes, need %d)", mpath, e.Name, len(buf), off+n*size)
			}
			b := buf[off : off+n*size]
			off += n * size
			switch {
			case e.Quantization != nil && size == 1:
				for i := range d {
					d[i] = float32(float64(b[i])*e.Quantization.Scale + e.Quantization.Min)
				}
			case e.Quantization != nil:
				for i := range d {
					d[i] = float32(float64(binary.LittleEndian.Uint16(b[2*i:]))*e.Quantization.Scale + e.Quantization.Min)
				}
			case dtype == "int32":
				for i := range d {
					d[i] = float32(int32(binary.LittleEndian.Uint32(b[4*i:])))
				}
			default:
				for i := range d {
					d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
				}
			}
			w[e.Name] = param{shape: e.Shape, d: d}
		}
		if off != len(buf) {
			return nil, fmt.Errorf("face: %s group %d: %d bytes of shards left over", mpath, gi, len(buf)-off)
		}
	}
	return w, nil
}

// get returns the weight name with the rank wanted, or an error naming the model.
func (w weights) get(model, name string, rank int) (param, error) {
	p, ok := w[name]
	if !ok {
		return param{}, fmt.Errorf("face: model %s: weight %s missing", model, name)
	}
	if len(p.shape) != rank {
		return param{}, fmt.Errorf("face: model %s: weight %s has shape %v, want rank %d", model, name, p.shape, rank)
	}
	return p, nil
}
