include $(sort $(wildcard $(BR2_EXTERNAL_WSMEASURE_PATH)/package/*/*.mk))
