/* SPDX-License-Identifier: ISC */
#include "agentd/vault.h"
