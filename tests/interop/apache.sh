# tests/interop/apache.sh - a private Apache httpd with mod_auth_gssapi (MIT's acceptor) on
# loopback, the reference HTTP Negotiate server of the interop scripts (source it, after
# lib.sh for port_busy). Its children run as www-data: they get their own copies of the
# keytab and krb5.conf (KRB5_CONFIG; a realm dir is root's, mode 700) and a replay-cache dir.
#
#   start_apache DIR KEYTAB   serves http://localhost:$apache_port/neg/whoami (one-round
#                             exchanges, each request its own token) and /neg-cb/whoami
#                             (GssapiConnectionBound: multi-leg SPNEGO on one keep-alive
#                             connection); the page has <p id="user">REMOTE_USER</p> and
#                             <p id="mech">; logs in DIR/logs. Sets apache_port, apache_pid.
#   stop_apache               stops it by its parent's pid (it daemonizes).

apache_pid=""

start_apache() {
  local a=$1 keytab=$2 attempt
  mkdir -p "$a/cgi-bin" "$a/logs" "$a/run" "$a/rcache" "$a/htdocs"
  chmod 755 "$(dirname "$a")" "$a" "$a/cgi-bin" "$a/htdocs"
  cp "$keytab" "$a/http.keytab"
  cp "$KRB5_CONFIG" "$a/krb5.conf"
  chown root:www-data "$a/http.keytab" "$a/krb5.conf" && chmod 640 "$a/http.keytab" && chmod 644 "$a/krb5.conf"
  chown www-data "$a/rcache" "$a/logs" "$a/run" && chmod 700 "$a/rcache"
  # The page: the same <p id="user"> element krbap-http-server writes.
  cat >"$a/cgi-bin/whoami" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/html; charset=utf-8\r\n\r\n'
printf '<!DOCTYPE html>\n<html><body><p id="user">%s</p><p id="mech">%s</p></body></html>\n' \
  "$REMOTE_USER" "$GSS_MECH"
CGI
  chmod 755 "$a/cgi-bin/whoami"
  for attempt in 1 2 3 4 5; do
    apache_port=$((20000 + RANDOM % 12000))
    port_busy "$apache_port" && continue
    cat >"$a/httpd.conf" <<CONF
# written by tests/interop/apache.sh: a private Apache for HTTP Negotiate on loopback
ServerRoot "$a"
ServerName localhost
Listen 127.0.0.1:$apache_port
PidFile "$a/run/httpd.pid"
DefaultRuntimeDir "$a/run"
Mutex file:$a/run default
User www-data
Group www-data
ErrorLog "$a/logs/error.log"
LogLevel warn auth_gssapi:debug
LoadModule mpm_prefork_module /usr/lib/apache2/modules/mod_mpm_prefork.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgi_module /usr/lib/apache2/modules/mod_cgi.so
LoadModule auth_gssapi_module /usr/lib/apache2/modules/mod_auth_gssapi.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 8
KeepAlive On
LogFormat "%h \"%r\" %>s user=%u ua=\"%{User-Agent}i\" authorization=\"%{Authorization}i\" www-authenticate=\"%{WWW-Authenticate}o\"" negotiate
CustomLog "$a/logs/access.log" negotiate
DocumentRoot "$a/htdocs"
<Directory />
    Require all denied
</Directory>
ScriptAlias /neg/ "$a/cgi-bin/"
ScriptAlias /neg-cb/ "$a/cgi-bin/"
<Directory "$a/cgi-bin">
    Options +ExecCGI
    Require all denied
</Directory>
# Every request carries its own token: one-round-trip exchanges only.
<Location /neg/>
    AuthType GSSAPI
    AuthName "krbap HTTP Negotiate test"
    GssapiCredStore keytab:$a/http.keytab
    GssapiAllowedMech krb5
    GssapiBasicAuth Off
    GssapiLocalName Off
    GssapiPublishMech On
    GssapiConnectionBound Off
    Require valid-user
</Location>
# The context lives with the keep-alive connection: multi-leg SPNEGO.
<Location /neg-cb/>
    AuthType GSSAPI
    AuthName "krbap HTTP Negotiate test (connection-bound)"
    GssapiCredStore keytab:$a/http.keytab
    GssapiAllowedMech krb5
    GssapiBasicAuth Off
    GssapiLocalName Off
    GssapiPublishMech On
    GssapiConnectionBound On
    Require valid-user
</Location>
CONF
    rm -f "$a/run/httpd.pid"
    env -i PATH="$PATH" KRB5_CONFIG="$a/krb5.conf" KRB5RCACHEDIR="$a/rcache" \
      apache2 -f "$a/httpd.conf" -k start >"$a/start.log" 2>&1 || continue
    for _ in $(seq 50); do [ -s "$a/run/httpd.pid" ] && break; sleep 0.1; done
    apache_pid=$(tr -cd '0-9' <"$a/run/httpd.pid" 2>/dev/null)
    [ -n "$apache_pid" ] || continue
    for _ in $(seq 50); do
      curl -s -o /dev/null "http://127.0.0.1:$apache_port/" && return 0
      sleep 0.1
    done
  done
  return 1
}

stop_apache() {
  if [ -n "$apache_pid" ] && kill -0 "$apache_pid" 2>/dev/null; then
    kill -TERM "$apache_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$apache_pid" 2>/dev/null || break; sleep 0.1; done
  fi
}
