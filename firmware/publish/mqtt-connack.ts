/** MQTT 3.1.1 CONNACK refusals in words, shared by the host and the device MQTT clients. */

/** §3.2.2.3 CONNACK return codes, in words for a person */
export function connackMessage(code: number, clientId: string): string {
  switch (code) {
    case 1:
      return 'unacceptable protocol version: the broker does not accept MQTT 3.1.1';
    case 2:
      return `identifier rejected: the broker does not accept the client id "${clientId}", choose another`;
    case 3:
      return 'server unavailable: the broker is up but its MQTT service is not available, try again later';
    case 4:
      return 'not authorised: bad user name or password, check the MQTT user name and password';
    case 5:
      return 'not authorised: check the MQTT user name and password';
    default:
      return `the broker refused the connection with CONNACK return code ${code}`;
  }
}
