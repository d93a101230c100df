/* SPDX-License-Identifier: ISC */
#include "common/err.h"
