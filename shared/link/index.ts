/** MQTT plumbing shared by every node: the embedded broker (channels come next). */
export { createEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.ts';
