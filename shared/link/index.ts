/** MQTT plumbing shared by every node: the embedded broker and channels (sender and receiver). */
export { createEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker.ts';
export { createChannelSender, ChannelSender, type ChannelSenderOptions, type ChannelSenderStats } from './sender.ts';
export { createChannelReceiver, ChannelReceiver, type ChannelReceiverOptions, type ChannelReceiverStats } from './receiver.ts';
export { addCounts, bindPartChannels, type PartChannels, type PartChannelsOptions } from './part-bindings.ts';
export { connectWithBackoff, disconnect, type ConnectOptions } from './connect.ts';
export { ChannelFrameStore, reconnectClient } from './frame-store.ts';
export { SourcePositions, type Positions } from './positions.ts';
export { AckGate, resultHorizon } from './ack-gate.ts';
export { describeOrphan, type OrphanOutbox } from './orphan-outboxes.ts';
export { fileFinalWatermark, brokerFinalWatermark, combinedFinalWatermark, type FinalWatermarkStore } from './final-watermark.ts';
