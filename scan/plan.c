/* plan.c - see scan.h (being written) */
#include "scan/scan.h"
