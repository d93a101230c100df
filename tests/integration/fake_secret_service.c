/* SPDX-License-Identifier: ISC */
/*
 * A Secret Service that takes the bus name and never answers: every
 * method call to it is dropped.  The keychain unlock source must fall
 * through after IDW_KEYCHAIN_TIMEOUT instead of hanging on it.
 */
#include <gio/gio.h>

static GDBusMessage *swallow(GDBusConnection *c, GDBusMessage *m,
			     gboolean incoming, gpointer data)
{
	(void)c;
	(void)data;
	if (incoming &&
	    g_dbus_message_get_message_type(m) ==
		    G_DBUS_MESSAGE_TYPE_METHOD_CALL &&
	    g_strcmp0(g_dbus_message_get_destination(m),
		      "org.freedesktop.DBus") != 0) {
		g_object_unref(m);
		return NULL; /* accepted, never answered */
	}
	return m;
}

int main(void)
{
	GError *err = NULL;
	GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &err);
	GMainLoop *loop;

	if (bus == NULL) {
		g_printerr("fake_secret_service: %s\n", err->message);
		return 1;
	}
	g_dbus_connection_add_filter(bus, swallow, NULL, NULL);
	g_bus_own_name_on_connection(bus, "org.freedesktop.secrets",
				     G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL,
				     NULL, NULL);
	loop = g_main_loop_new(NULL, FALSE);
	g_main_loop_run(loop);
	return 0;
}
