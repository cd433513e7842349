// The JavaScript reference for face/: runs @vladmandic/face-api's own code (its bundled
// dist/face-api.esm.js, TF.js on the pure-JavaScript CPU backend, no native build) on raw
// RGB pictures the Go test wrote, and prints what it finds as JSON.
//
//   node reference.mjs PACKAGE_DIR JOBS.json
//
// JOBS.json: [{"name", "raw" (file of width*height*3 bytes), "width", "height",
//              "mode": "describe" (computeFaceDescriptor of the whole picture) |
//                      "analyse" (detectSingleFace + tiny landmarks + descriptor)}]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [pkg, jobsFile] = process.argv.slice(2);
if (!pkg || !jobsFile) {
  console.error('usage: node reference.mjs PACKAGE_DIR JOBS.json');
  process.exit(2);
}

// The ESM bundle would pick TF.js's Node platform, whose util module is stubbed out in the
// bundle; hide Node while it loads, then give TF.js a plain platform.
const realVersions = process.versions;
Object.defineProperty(process, 'versions', { value: { ...realVersions, node: undefined }, configurable: true });
const faceapi = await import(pathToFileURL(path.join(pkg, 'dist', 'face-api.esm.js')).href);
Object.defineProperty(process, 'versions', { value: realVersions, configurable: true });
const { tf } = faceapi;
const encoder = new TextEncoder();
tf.env().setPlatform('plain', {
  fetch: (u, o) => fetch(u, o),
  now: () => performance.now(),
  encode: (s) => encoder.encode(s),
  decode: (b, e) => new TextDecoder(e).decode(b),
  isTypedArray: (a) => ArrayBuffer.isView(a) && !(a instanceof DataView),
  setTimeoutCustom: (f, d) => setTimeout(f, d),
});
faceapi.env.setEnv(faceapi.env.createNodejsEnv());
await tf.setBackend('cpu');
await tf.ready();

async function load(net, name) {
  const dir = path.join(pkg, 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, `${name}-weights_manifest.json`), 'utf8'));
  const specs = [];
  const shards = [];
  for (const group of manifest) {
    for (const p of group.paths) shards.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const buf = Buffer.concat(shards);
  net.loadFromWeightMap(tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), specs));
}
await load(faceapi.nets.faceRecognitionNet, 'face_recognition_model');
await load(faceapi.nets.tinyFaceDetector, 'tiny_face_detector_model');
await load(faceapi.nets.faceLandmark68TinyNet, 'face_landmark_68_tiny_model');

// Count the faces the detector returns inside detectSingleFace, rather than detecting twice.
const detector = faceapi.nets.tinyFaceDetector;
const locateFaces = detector.locateFaces.bind(detector);
let located = -1;
detector.locateFaces = async (...args) => {
  const found = await locateFaces(...args);
  located = found.length;
  return found;
};

const box = (b) => ({ x: b.x, y: b.y, w: b.width, h: b.height });
const out = [];
for (const job of JSON.parse(fs.readFileSync(jobsFile, 'utf8'))) {
  const raw = fs.readFileSync(job.raw);
  const img = tf.tensor3d(new Uint8Array(raw), [job.height, job.width, 3], 'int32');
  const res = { name: job.name };
  if (job.mode === 'describe') {
    res.descriptor = Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(img));
  } else {
    const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
    located = -1;
    const r = await faceapi.detectSingleFace(img, opts).withFaceLandmarks(true).withFaceDescriptor();
    res.faces = located;
    if (r) {
      res.score = r.detection.score;
      res.box = box(r.detection.box);
      res.aligned = box(r.landmarks.align(null, { useDlibAlignment: true }));
      res.landmarks = r.landmarks.positions.map((p) => [p.x, p.y]);
      res.descriptor = Array.from(r.descriptor);
    }
  }
  img.dispose();
  out.push(res);
}
process.stdout.write(JSON.stringify(out));
