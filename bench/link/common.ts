/** What both sides of the link benchmark share: the event, the MQTT connect, the clock. */
import mqtt, { type MqttClient } from 'mqtt';

export const payload = { device: 'plug-00042', w: 812.4, kwh: 42.318771, house: 1, seq: 0, pad: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' };
export const EVENT_BYTES = JSON.stringify(payload).length;

export const connect = (url: string, id: string): Promise<MqttClient> => mqtt.connectAsync(url, { clientId: id, reconnectPeriod: 0 });

/** Wall-clock ms with sub-ms resolution, comparable between processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();
