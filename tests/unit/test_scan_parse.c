#include "harness.h"
#include "scan/scan.h"
