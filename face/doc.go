// Package face verifies that two photos show the same person, in pure Go: it runs the
// networks of the npm package @vladmandic/face-api (a TF.js port of dlib's ResNet face
// recogniser, the tiny face detector and the 68-point landmark net) from the package's own
// quantised weights, and reproduces its pipeline — detect, landmarks, aligned crop, 150×150,
// 128-d descriptor — so that its descriptors agree with the JavaScript's.
//
// It must never download anything (the weights come from face/fetch.sh, once, into a folder
// given to Load), never keep images it was given, and never be taken for presentation-attack
// detection: it says whether two faces look alike, not whether a live person stood before the
// camera.
package face
