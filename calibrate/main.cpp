// Standalone `calibrate` executable, so a host can be calibrated without the
// calib64 CLI: `calibrate [--quick|--thorough] [--out DIR] ...`.
#include "calibrate.h"

int main(int argc, char** argv) { return calib64::run_calibrate(argc, argv); }
