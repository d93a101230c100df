/* SPDX-License-Identifier: ISC */
#include "client/idwclient.h"
